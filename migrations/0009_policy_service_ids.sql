CREATE TABLE `namespace_policy_services` (
	`owner_id` text NOT NULL,
	`service_id` text NOT NULL,
	`kind` text NOT NULL,
	PRIMARY KEY(`owner_id`, `service_id`),
	FOREIGN KEY (`owner_id`) REFERENCES `owners`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`service_id`) REFERENCES `services`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `namespace_policy_services_service_idx` ON `namespace_policy_services` (`service_id`);--> statement-breakpoint
DROP INDEX `claims_namespace_status_idx`;--> statement-breakpoint
CREATE INDEX `claims_pending_idx` ON `claims` (`namespace`,`service_id`) WHERE status = 'pending';--> statement-breakpoint
-- The policy used to hold slugs. A slug becomes its service's id only if that service existed
-- before the policy was last written: a service registered later may have taken the slug over.
INSERT OR IGNORE INTO `namespace_policy_services` (`owner_id`, `service_id`, `kind`)
SELECT p.`owner_id`, s.`id`, 'auto_approve'
FROM `namespace_policies` p
JOIN json_each(CASE WHEN json_valid(p.`auto_approve_services`) THEN p.`auto_approve_services` ELSE '[]' END) j
JOIN `services` s ON s.`slug` = j.`value` AND s.`created_at` < p.`updated_at`;--> statement-breakpoint
ALTER TABLE `namespace_policies` DROP COLUMN `auto_approve_services`;