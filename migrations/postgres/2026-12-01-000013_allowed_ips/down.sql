ALTER TABLE apps DROP COLUMN allowed_ips;
