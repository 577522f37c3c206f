DROP TABLE limit_counters;
ALTER TABLE roles DROP COLUMN rate_limits;
ALTER TABLE apps DROP COLUMN quota_refill;
ALTER TABLE apps DROP COLUMN quota_total;
ALTER TABLE apps DROP COLUMN rate_limits;
