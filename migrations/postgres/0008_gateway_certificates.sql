-- The certificates each gateway's TLS listener holds, as it last reported them (JSON: name, hosts,
-- not_after), so the fleet view can warn before one expires. Replaced with every report.
ALTER TABLE gateway_status ADD COLUMN certificates TEXT NOT NULL DEFAULT '[]';
