CREATE TABLE `webauthn_challenges` (
	`challenge` text PRIMARY KEY NOT NULL,
	`ceremony` text NOT NULL,
	`owner_id` text,
	`namespace` text,
	`email` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webauthn_challenges_expires_idx` ON `webauthn_challenges` (`expires_at`);--> statement-breakpoint
CREATE INDEX `webauthn_challenges_owner_idx` ON `webauthn_challenges` (`owner_id`);--> statement-breakpoint
ALTER TABLE `passkeys` ADD `backup_eligible` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `passkeys` ADD `backed_up` integer DEFAULT false NOT NULL;