-- Counting files by type (the README's attachments query) read every row of `attachments`, whose
-- URLs make it wide: about 1 s for two million files. This index holds what the question reads,
-- for the files that count (not marked gone), in a tenth of the space: the answer comes from an
-- index-only scan. `event_reference` is included because attachments_with_context joins on it:
-- the planner drops the unused join but still counts the column as read.
CREATE INDEX "attachments_by_type_idx" ON "zendesk"."attachments" USING btree ("content_type") INCLUDE ("author_type", "size", "deleted", "event_reference") WHERE "deleted_at" IS NULL;
