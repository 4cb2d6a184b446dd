use crate::postfix::split_list;

#[test]
fn splits_at_commas_and_any_whitespace() {
    assert_eq!(split_list("a, b\tc,,d\r\n  e ,"), ["a", "b", "c", "d", "e"]);
}

#[test]
fn empty_and_separator_only_values_have_no_elements() {
    assert!(split_list("").is_empty());
    assert!(split_list(" , \t,").is_empty());
}

#[test]
fn brace_group_is_one_element_braces_kept() {
    assert_eq!(
        split_list("{ inet:localhost:8891, connect_timeout=10s }, local:opendkim/opendkim.sock"),
        [
            "{ inet:localhost:8891, connect_timeout=10s }",
            "local:opendkim/opendkim.sock"
        ]
    );
}

#[test]
fn nested_groups_and_text_around_braces_stay_in_the_element() {
    assert_eq!(split_list("x{a {b, c} d}y, z"), ["x{a {b, c} d}y", "z"]);
}

#[test]
fn unclosed_brace_runs_to_the_end_and_stray_close_is_ordinary() {
    assert_eq!(split_list("a, {b, c"), ["a", "{b, c"]);
    assert_eq!(split_list("a}, b"), ["a}", "b"]);
}

#[test]
fn non_ascii_text_is_kept_whole() {
    assert_eq!(split_list("é,ü ß"), ["é", "ü", "ß"]);
}
