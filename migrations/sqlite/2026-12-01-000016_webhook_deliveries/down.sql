DROP INDEX apps_expires_at;
DROP TABLE webhook_deliveries;
