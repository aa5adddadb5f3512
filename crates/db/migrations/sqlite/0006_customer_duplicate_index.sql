-- The 360 page looks for possible duplicates: another customer with the same name at the same
-- address. Without an index on the address that is a walk through every customer of the same
-- name (about 1,500 of them at a million customers, 10-20 ms; the page's target is 30 ms).
create index if not exists customer_address_by_place on customer_address (postal_code, lower(line1));
