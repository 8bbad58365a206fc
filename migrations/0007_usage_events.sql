CREATE TABLE `usage_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner_id` text NOT NULL,
	`namespace` text NOT NULL,
	`service_id` text,
	`service_slug` text NOT NULL,
	`event_id` text NOT NULL,
	`public_key` text NOT NULL,
	`subject` text NOT NULL,
	`agent_id` text,
	`protocol` text NOT NULL,
	`action` text NOT NULL,
	`outcome` text NOT NULL,
	`status_code` integer,
	`duration_ms` integer,
	`response_bytes` integer,
	`request_method` text,
	`request_path` text,
	`remote_ip` text,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `owners`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_events_service_event_uq` ON `usage_events` (`service_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `usage_events_owner_received_idx` ON `usage_events` (`owner_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `usage_events_received_idx` ON `usage_events` (`received_at`);