//! The mixed-script rule for a domain label (UTS #39 §5.1–§5.2): a label whose letters
//! come from scripts that read as a look-alike of another name is refused.

use unicode_script::{Script, UnicodeScript};
use unicode_security::mixed_script::AugmentedScriptSet;
use unicode_security::{MixedScript, RestrictionLevel, RestrictionLevelDetection};

use crate::values::Rule;

/// UTS #39 §5.2: the U-label `m` (typed as `t`) must be at most "moderately restrictive".
/// Accepted: a single-script label (§5.1, with the augmented sets for Japanese, Korean and
/// Han with Bopomofo), Latin + Han/Hiragana/Katakana/Hangul ("highly restrictive"), Latin +
/// one recommended script other than Cyrillic and Greek ("moderately restrictive"). Refused:
/// anything else ("minimally restrictive" or "unrestricted"), the rule naming the scripts
/// (Script property, in order of appearance) and the first character that breaks the first.
///
/// Characters of no script (Common and Inherited: digits, `-`, U+00B7, ZWJ/ZWNJ) are left out
/// before the level is detected: they change no script set, but some are outside the
/// identifier profile (§3.1), which unicode-security reports as "unrestricted". Which
/// characters a label may hold at all is IDNA2008's rule (RFC 5892), checked before this.
pub(super) fn check_scripts(t: &str, m: &str) -> Result<(), Rule> {
    if m.is_ascii() || m.is_single_script() {
        return Ok(());
    }
    let scripted: String = m
        .chars()
        .filter(|&c| !AugmentedScriptSet::for_char(c).is_all())
        .collect();
    if scripted.as_str().detect_restriction_level() <= RestrictionLevel::ModeratelyRestrictive {
        return Ok(());
    }
    let mut scripts: Vec<Script> = Vec::new();
    let mut odd: Option<(char, Script)> = None;
    for c in m.chars() {
        let s = c.script();
        if matches!(s, Script::Common | Script::Inherited | Script::Unknown) {
            continue;
        }
        if !scripts.contains(&s) {
            scripts.push(s);
        }
        if odd.is_none() && scripts.first() != Some(&s) {
            odd = Some((c, s));
        }
    }
    let names: Vec<&str> = scripts.iter().map(|s| s.full_name()).collect();
    let from = if t == m {
        String::new()
    } else {
        format!(" (from {t:?})")
    };
    let which = odd.map_or(String::new(), |(c, s)| {
        format!("; {c:?} (U+{:04X}) is {}", u32::from(c), s.full_name())
    });
    Err(Rule(format!(
        "label {m:?}{from} mixes scripts ({}){which}: a look-alike of another name \
         (UTS #39 §5.2 allows Latin only with Han, Hiragana, Katakana, Hangul or one other \
         script that is not Cyrillic or Greek); type every letter of the label in one script",
        names.join(", ")
    )))
}
