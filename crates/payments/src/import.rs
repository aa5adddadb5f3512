//! Payment file import (being built).
