ALTER TABLE change_counter DROP COLUMN pruned_through;
DROP TABLE verify_changes;
