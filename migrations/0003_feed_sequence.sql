CREATE TABLE `feed_tombstones` (
	`claim_id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`change_seq` integer NOT NULL,
	`removed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `feed_tombstones_service_seq_idx` ON `feed_tombstones` (`service_id`,`change_seq`);--> statement-breakpoint
CREATE INDEX `feed_tombstones_removed_idx` ON `feed_tombstones` (`removed_at`);--> statement-breakpoint
CREATE TABLE `sequences` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `sequences` (`name`, `value`) SELECT 'claim_changes', coalesce(max(`change_seq`), 0) FROM `claims`;
