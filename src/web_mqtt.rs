//! The few MQTT 3.1.1 packets the browser build sends over a WebSocket (subprotocol "mqtt"):
//! CONNECT with a clean session and no keep-alive, and PUBLISH at QoS 0. Plain byte
//! encoding, so it is tested on every target.

use crate::ui::citizen_report::CitizenReport;

/// Remaining-length field: 7 bits a byte, least significant first, high bit "more".
pub fn remaining_length(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if n == 0 {
            break;
        }
    }
}

fn string(s: &str, out: &mut Vec<u8>) {
    let bytes = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    remaining_length(body.len(), &mut out);
    out.extend_from_slice(body);
    out
}

/// CONNECT: protocol "MQTT" level 4, clean session, keep-alive off, no credentials.
pub fn connect(client_id: &str) -> Vec<u8> {
    let mut body = Vec::new();
    string("MQTT", &mut body);
    body.push(4);
    body.push(0x02);
    body.extend_from_slice(&0u16.to_be_bytes());
    string(client_id, &mut body);
    packet(0x10, &body)
}

/// PUBLISH at QoS 0, not retained.
pub fn publish(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    string(topic, &mut body);
    body.extend_from_slice(payload);
    packet(0x30, &body)
}

/// Topic of the citizens' reports of a site.
pub fn report_topic(site_slug: &str) -> String {
    format!("kos/v1/{site_slug}/citizen/report")
}

/// A filed report in the schema of the twin's citizen feedback port (docs/telemetry.md):
/// `{ts, reporter, kind, asset?, text}`, `ts` in milliseconds since the Unix epoch and
/// `reporter` a pseudonym of the page's session.
pub fn report_payload(report: &CitizenReport, ts_ms: i64, reporter: &str) -> Vec<u8> {
    let mut payload = serde_json::json!({
        "ts": ts_ms,
        "reporter": reporter,
        "kind": report.kind,
        "text": report.text,
    });
    if !report.asset.is_empty() {
        payload["asset"] = serde_json::Value::from(report.asset.clone());
    }
    payload.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page publishes citizens' reports on the very topic the twin subscribes to, whatever
    /// the site is called (one slug, `kos_scene::site_slug`, for both).
    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn the_page_publishes_where_the_twin_listens() {
        use crate::telemetry::topic;
        for name in [
            "Aldermoor Commons",
            "a/b+#c",
            "$SYS/x",
            "  #  ",
            "Ünïcode -- Town/2",
            "North_Quay\tEast",
            &"long name ".repeat(20),
        ] {
            let slug = kos_scene::site_slug(name);
            assert!(topic::valid_id(&slug), "{name:?} -> {slug:?}");
            let published = report_topic(&slug);
            assert_eq!(published, topic::citizen_report(&slug));
            assert!(
                topic::subscriptions(&slug, None).contains(&published),
                "{name:?}"
            );
            assert!(!published.contains(['+', '#']) && published.split('/').count() == 5);
        }
    }

    #[test]
    fn remaining_lengths() {
        let enc = |n| {
            let mut v = Vec::new();
            remaining_length(n, &mut v);
            v
        };
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x80, 0x01]);
        assert_eq!(enc(16_383), [0xff, 0x7f]);
        assert_eq!(enc(16_384), [0x80, 0x80, 0x01]);
    }

    #[test]
    fn connect_packet() {
        assert_eq!(
            connect("ab"),
            [
                0x10, 14, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 0, 0, 2, b'a', b'b'
            ]
        );
    }

    #[test]
    fn publish_packet() {
        let p = publish("a/b", b"{}");
        assert_eq!(p, [0x30, 7, 0, 3, b'a', b'/', b'b', b'{', b'}']);
        // Remaining length 2 + 1 + 200 = 203: 0xcb 0x01 in the variable-length encoding.
        let long = publish("t", &[b'x'; 200]);
        assert_eq!(&long[..3], [0x30, 0xcb, 0x01]);
        assert_eq!(long.len(), 3 + 3 + 200);
        assert_eq!(report_topic("s"), "kos/v1/s/citizen/report");
    }
}
