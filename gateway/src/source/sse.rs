//! Server-sent events, parsed as the WHATWG HTML standard says (`text/event-stream`): lines end
//! with `\n`, `\r\n` or `\r`; `data:` lines join with `\n`; `:` lines are comments; an event is
//! dispatched at a blank line. Bytes arrive in arbitrary chunks, so a line may span several.
//! `retry:` is read like any unknown field, that is, skipped: the gateway's own backoff decides
//! when to reconnect. What the events mean is `hub`'s business.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field; `message` when the server named none.
    pub kind: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The last `id:` the stream set (it carries over to later events); empty if none.
    pub id: String,
}

/// An event grew past the parser's limit; the stream should be dropped.
#[derive(Debug, thiserror::Error)]
#[error("an event is larger than {0} bytes")]
pub struct EventTooLarge(pub usize);

/// An incremental parser for one stream.
#[derive(Debug)]
pub struct Parser {
    /// The line being read, without its ending.
    line: Vec<u8>,
    /// The last chunk ended with `\r`: a `\n` opening the next chunk belongs to it.
    after_cr: bool,
    /// At least one line was read (a byte-order mark may only open the first).
    read_a_line: bool,
    kind: String,
    data: String,
    last_id: String,
    max_event_bytes: usize,
}

impl Parser {
    /// A parser that refuses events (the line being read plus the data gathered so far) over
    /// `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Parser {
        Parser {
            line: Vec::new(),
            after_cr: false,
            read_a_line: false,
            kind: String::new(),
            data: String::new(),
            last_id: String::new(),
            max_event_bytes,
        }
    }

    /// Reads a chunk and returns the events it completed. An event still open when the stream
    /// ends is never dispatched, as the standard says.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<Vec<Event>, EventTooLarge> {
        let mut events = Vec::new();
        while !chunk.is_empty() {
            if std::mem::take(&mut self.after_cr) && chunk[0] == b'\n' {
                chunk = &chunk[1..];
                continue;
            }
            let Some(end) = chunk.iter().position(|byte| *byte == b'\n' || *byte == b'\r') else {
                self.line.extend_from_slice(chunk);
                self.check_size()?;
                break;
            };
            self.line.extend_from_slice(&chunk[..end]);
            self.check_size()?;
            self.after_cr = chunk[end] == b'\r';
            chunk = &chunk[end + 1..];
            let mut line = std::mem::take(&mut self.line);
            if let Some(event) = self.read_line(&line) {
                events.push(event);
            }
            // Keep the allocation: a snapshot arrives as one long line, again and again.
            line.clear();
            self.line = line;
        }
        Ok(events)
    }

    fn check_size(&self) -> Result<(), EventTooLarge> {
        if self.line.len() + self.data.len() > self.max_event_bytes {
            return Err(EventTooLarge(self.max_event_bytes));
        }
        Ok(())
    }

    fn read_line(&mut self, mut line: &[u8]) -> Option<Event> {
        if !std::mem::replace(&mut self.read_a_line, true) {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return None;
        }
        let (field, value) = match line.iter().position(|byte| *byte == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"event" => self.kind = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
            }
            b"id" if !value.contains(&0) => self.last_id = String::from_utf8_lossy(value).into_owned(),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let kind = std::mem::take(&mut self.kind);
        if self.data.is_empty() {
            return None;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // The `\n` after the last data line.
        Some(Event {
            kind: if kind.is_empty() { "message".to_owned() } else { kind },
            data,
            id: self.last_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests;
