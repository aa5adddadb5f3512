-- Business calendars may name an IANA time zone (e.g. America/Chicago), so business hours follow
-- daylight saving; an empty name keeps the fixed offset from UTC.
alter table business_calendar add column time_zone text not null default '';
