-- A voice recording's words are its transcription (content.transcription_text): the mapper has
-- made it the event's body_text since this release, and calls stored before kept none, so a
-- search of body_text missed them. Filled from the stored raw, with no request to Zendesk;
-- updated_at moves so that an extract reading changed rows picks them up.
UPDATE "zendesk"."conversation_events"
   SET "body_text" = "raw" #>> '{content,transcription_text}', "updated_at" = now()
 WHERE "content_type" = 'voice_recording'
   AND "body_text" IS NULL
   AND jsonb_typeof("raw" #> '{content,transcription_text}') = 'string'
   AND "raw" #>> '{content,transcription_text}' ~ '\S';
