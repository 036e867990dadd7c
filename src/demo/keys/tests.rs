use super::*;

#[test]
fn keys_files_read_user_equals_key_and_env_lines() {
    let text = "# comment\n\nsam=ghk_a\nexport PRIYA_KEY=\"ghk_b\"\nHANA_KEY=ghk_c\n";
    assert_eq!(
        parse(text),
        Ok(vec![
            ("sam".into(), "ghk_a".into()),
            ("priya".into(), "ghk_b".into()),
            ("hana".into(), "ghk_c".into()),
        ])
    );
    assert_eq!(parse("sam=ghk_a\noops\n"), Err("line 2: expected user=key".into()));
    assert_eq!(parse("sam=\n"), Err("line 1: expected user=key".into()));
}
