CREATE TABLE `claim_nonces` (
	`service_id` text NOT NULL,
	`nonce` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`service_id`, `nonce`),
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `claim_nonces_expiry_idx` ON `claim_nonces` (`expires_at`);--> statement-breakpoint
CREATE TABLE `claim_transitions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`claim_id` text NOT NULL,
	`from_status` text,
	`to_status` text NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`reason` text,
	FOREIGN KEY (`claim_id`) REFERENCES `claims`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `claim_transitions_claim_idx` ON `claim_transitions` (`claim_id`,`id`);--> statement-breakpoint
CREATE TABLE `claims` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`namespace` text NOT NULL,
	`service_id` text,
	`service_slug` text NOT NULL,
	`public_key` text NOT NULL,
	`agent_ip` text NOT NULL,
	`subject` text,
	`agent_id` text,
	`agent_name` text,
	`status` text NOT NULL,
	`reason` text,
	`auto_approved` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`change_seq` integer NOT NULL,
	`pending_expires_at` integer,
	`decided_at` integer,
	`approved_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`owner_id`) REFERENCES `owners`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `claims_active_uq` ON `claims` (`namespace`,`service_id`,`public_key`) WHERE status IN ('pending', 'approved');--> statement-breakpoint
CREATE INDEX `claims_namespace_idx` ON `claims` (`namespace`,`created_at`);--> statement-breakpoint
CREATE INDEX `claims_lookup_idx` ON `claims` (`service_id`,`namespace`,`public_key`,`created_at`);--> statement-breakpoint
CREATE INDEX `claims_owner_idx` ON `claims` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `claims_service_seq_idx` ON `claims` (`service_id`,`change_seq`);--> statement-breakpoint
CREATE INDEX `claims_seq_idx` ON `claims` (`change_seq`);--> statement-breakpoint
CREATE INDEX `claims_pending_expiry_idx` ON `claims` (`status`,`pending_expires_at`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`service_id` text,
	`claim_id` text,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `events_service_idx` ON `events` (`service_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `events_created_idx` ON `events` (`created_at`);--> statement-breakpoint
CREATE TABLE `namespace_policies` (
	`owner_id` text PRIMARY KEY NOT NULL,
	`auto_approve_services` text DEFAULT '[]' NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `owners`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `signature_nonces` (
	`namespace` text NOT NULL,
	`nonce` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`namespace`, `nonce`)
);
--> statement-breakpoint
CREATE INDEX `signature_nonces_expiry_idx` ON `signature_nonces` (`expires_at`);