-- A deletion webhook never records a deletion itself: it queues the ticket, and the sync that
-- follows records Zendesk's 404. The column's comment named a `webhook` value that no code writes.
COMMENT ON COLUMN "zendesk"."ticket_sync"."deleted_how" IS 'How convlog learned the ticket is gone: 404 (Zendesk answered not found, also after a deletion webhook queued the ticket), export (deleted in the incremental export) or purge command (convlog purge, an erasure request).';
