use super::percent_decode;

#[test]
fn percent_decode_reads_escapes_and_leaves_malformed_ones() {
    let cases: [(&str, &[u8]); 8] = [
        ("plain", b"plain"),
        ("a%00b", b"a\0b"),
        ("%1F%7f", b"\x1f\x7f"),
        ("a+b", b"a b"),
        ("%2B", b"+"),
        ("%+1", b"% 1"),
        ("100%", b"100%"),
        ("%zz%4", b"%zz%4"),
    ];
    for (text, expected) in cases {
        assert_eq!(percent_decode(text), expected, "{text}");
    }
}
