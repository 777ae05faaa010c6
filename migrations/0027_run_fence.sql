-- A worker whose run of a ticket was taken over (it was cut off from Postgres, or frozen, past its
-- heartbeat, and another worker started the ticket again) may still hold a page it fetched before
-- the takeover. Stored after the newer run's pages, that page would put back what the newer run
-- read since, a redaction among it. Each run's page statement and its end therefore check that the
-- ticket's ticket_sync.started_at is still the one their run began with; when it is not, this
-- function aborts the statement, so nothing of that page is written (src/db/store-page.ts).
CREATE OR REPLACE FUNCTION "convlog"."run_taken_over"(ticket bigint) RETURNS boolean
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION 'another run of ticket % started since this one did: its page is not stored', ticket
    USING ERRCODE = 'CV001';
END
$$;
--> statement-breakpoint
COMMENT ON FUNCTION "convlog"."run_taken_over"(bigint) IS 'Raises SQLSTATE CV001: called by convlog''s page statement when the run storing the page is no longer the ticket''s latest (another worker took it over), so that the statement writes nothing. Internal.';
