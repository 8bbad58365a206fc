DROP INDEX `claims_namespace_idx`;--> statement-breakpoint
DROP INDEX `claims_seq_idx`;