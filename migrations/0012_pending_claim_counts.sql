CREATE TABLE `pending_claim_counts` (
	`namespace` text NOT NULL,
	`service_id` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`namespace`, `service_id`)
);
--> statement-breakpoint
-- The pending caps now read pending_claim_counts; nothing else used this index.
DROP INDEX `claims_pending_idx`;
--> statement-breakpoint
-- Hand-written below (drizzle-kit does not model triggers): the counts follow every claim that
-- enters or leaves `pending` (or changes namespace or service) in the same transaction; rows that
-- reach zero are removed.
CREATE TRIGGER `pending_claim_counts_insert` AFTER INSERT ON `claims`
WHEN NEW.`status` = 'pending' AND NEW.`service_id` IS NOT NULL BEGIN
  INSERT INTO `pending_claim_counts` (`namespace`, `service_id`, `n`)
    VALUES (NEW.`namespace`, NEW.`service_id`, 1)
    ON CONFLICT (`namespace`, `service_id`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `pending_claim_counts_leave` AFTER UPDATE OF `status`, `service_id`, `namespace` ON `claims`
WHEN OLD.`status` = 'pending' AND OLD.`service_id` IS NOT NULL
  AND (NEW.`status` IS NOT 'pending' OR NEW.`service_id` IS NOT OLD.`service_id`
    OR NEW.`namespace` IS NOT OLD.`namespace`) BEGIN
  UPDATE `pending_claim_counts` SET `n` = `n` - 1
    WHERE `namespace` = OLD.`namespace` AND `service_id` = OLD.`service_id`;
  DELETE FROM `pending_claim_counts`
    WHERE `namespace` = OLD.`namespace` AND `service_id` = OLD.`service_id` AND `n` <= 0;
END;
--> statement-breakpoint
CREATE TRIGGER `pending_claim_counts_enter` AFTER UPDATE OF `status`, `service_id`, `namespace` ON `claims`
WHEN NEW.`status` = 'pending' AND NEW.`service_id` IS NOT NULL
  AND (OLD.`status` IS NOT 'pending' OR NEW.`service_id` IS NOT OLD.`service_id`
    OR NEW.`namespace` IS NOT OLD.`namespace`) BEGIN
  INSERT INTO `pending_claim_counts` (`namespace`, `service_id`, `n`)
    VALUES (NEW.`namespace`, NEW.`service_id`, 1)
    ON CONFLICT (`namespace`, `service_id`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `pending_claim_counts_delete` AFTER DELETE ON `claims`
WHEN OLD.`status` = 'pending' AND OLD.`service_id` IS NOT NULL BEGIN
  UPDATE `pending_claim_counts` SET `n` = `n` - 1
    WHERE `namespace` = OLD.`namespace` AND `service_id` = OLD.`service_id`;
  DELETE FROM `pending_claim_counts`
    WHERE `namespace` = OLD.`namespace` AND `service_id` = OLD.`service_id` AND `n` <= 0;
END;
--> statement-breakpoint
INSERT INTO `pending_claim_counts` (`namespace`, `service_id`, `n`)
  SELECT `namespace`, `service_id`, count(*) FROM `claims`
  WHERE `status` = 'pending' AND `service_id` IS NOT NULL
  GROUP BY `namespace`, `service_id`;
