-- Live events across servers. Every committed activity row is announced on the channel
-- `paperclip_activity` (its seq as the payload; NOTIFY is delivered only on commit), so each
-- server sharing the database can publish it to its WebSocket readers. `paperclip db copy`
-- sets `paperclip.quiet_activity` to copy history without announcing it.
CREATE FUNCTION paperclip_announce_activity() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('paperclip.quiet_activity', true), '') <> 'on' THEN
        PERFORM pg_notify('paperclip_activity', NEW.seq::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER activity_log_announce AFTER INSERT ON activity_log
    FOR EACH ROW EXECUTE FUNCTION paperclip_announce_activity();
