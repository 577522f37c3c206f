-- "Allowed addresses" of a key: its IPv4/IPv6 addresses and CIDR ranges,
-- comma-separated as src/apps/domain/allowed_ips.rs writes them; NULL: from
-- anywhere.
ALTER TABLE apps ADD COLUMN allowed_ips TEXT;
