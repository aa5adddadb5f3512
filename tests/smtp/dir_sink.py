"""An SMTP sink for Caredesk's tests and benchmark: aiosmtpd hands each message to DirSink, which
writes it to a directory, one file per message (written under a temporary name, then renamed, so
a reader never sees half a message).

    PYTHONPATH=tests/smtp python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c dir_sink.DirSink /tmp/mail
"""

import itertools
import os


class DirSink:
    _counter = itertools.count()

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("dir_sink.DirSink takes one argument: the directory to write messages to")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        name = "%d-%d" % (os.getpid(), next(self._counter))
        temporary = os.path.join(self.directory, "." + name + ".tmp")
        with open(temporary, "wb") as out:
            out.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            out.write(envelope.original_content or envelope.content)
        os.rename(temporary, os.path.join(self.directory, name + ".eml"))
        return "250 Message accepted for delivery"
