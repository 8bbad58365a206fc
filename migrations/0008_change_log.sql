CREATE TABLE `cache_changes` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cache_changes_at_idx` ON `cache_changes` (`at`);--> statement-breakpoint
-- Hand-written below (drizzle-kit does not model triggers): every change that can alter a cached
-- answer adds a cache_changes row in the same transaction; each instance follows the table.
CREATE TRIGGER `cache_changes_claim_insert` AFTER INSERT ON `claims`
WHEN NEW.`service_id` IS NOT NULL BEGIN
  INSERT INTO `cache_changes` (`kind`, `key`, `at`) VALUES ('claim',
    json_array(NEW.`service_id`, NEW.`namespace`, NEW.`public_key`),
    CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
--> statement-breakpoint
CREATE TRIGGER `cache_changes_claim_status` AFTER UPDATE OF `status` ON `claims`
WHEN OLD.`status` IS NOT NEW.`status` AND OLD.`service_id` IS NOT NULL BEGIN
  INSERT INTO `cache_changes` (`kind`, `key`, `at`) VALUES ('claim',
    json_array(OLD.`service_id`, OLD.`namespace`, OLD.`public_key`),
    CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
--> statement-breakpoint
CREATE TRIGGER `cache_changes_api_key_update` AFTER UPDATE OF `revoked_at`, `expires_at` ON `api_keys`
WHEN OLD.`revoked_at` IS NOT NEW.`revoked_at` OR OLD.`expires_at` IS NOT NEW.`expires_at` BEGIN
  INSERT INTO `cache_changes` (`kind`, `key`, `at`)
    VALUES ('api_key', OLD.`key_hash`, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
--> statement-breakpoint
CREATE TRIGGER `cache_changes_api_key_delete` AFTER DELETE ON `api_keys` BEGIN
  INSERT INTO `cache_changes` (`kind`, `key`, `at`)
    VALUES ('api_key', OLD.`key_hash`, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
--> statement-breakpoint
CREATE TRIGGER `cache_changes_service_update` AFTER UPDATE ON `services` BEGIN
  INSERT INTO `cache_changes` (`kind`, `key`, `at`)
    VALUES ('service', OLD.`slug`, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
--> statement-breakpoint
CREATE TRIGGER `cache_changes_service_delete` AFTER DELETE ON `services` BEGIN
  INSERT INTO `cache_changes` (`kind`, `key`, `at`)
    VALUES ('service', OLD.`slug`, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
--> statement-breakpoint
CREATE TRIGGER `cache_changes_owner_delete` AFTER DELETE ON `owners` BEGIN
  INSERT INTO `cache_changes` (`kind`, `key`, `at`)
    VALUES ('owner', OLD.`namespace`, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
