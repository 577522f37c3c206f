ALTER TABLE apps DROP COLUMN last_used_at;
DROP TABLE change_counter;
DROP TABLE role_rules;
