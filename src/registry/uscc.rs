//! 统一社会信用代码 (unified social credit code, GB 32100-2015): validation of both check
//! characters and generation of codes for new registrations.
//!
//! Layout (DOMAIN §1): position 1 registration authority, 2 category, 3–8 the registering
//! authority's division code, 9–17 the organization code (GB 11714: 8 body characters and a check
//! character), 18 the mod-31 check character (GB/T 17710). The two checks use different letter
//! values: the USCC alphabet omits I, O, S, V, Z (so J = 18), while the organization code check
//! counts letters A = 10 … Z = 35 (so J = 19). Real codes satisfy both.

use std::fmt;

/// The 31 characters a USCC may contain; a character's value is its index.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17 for the mod-31 check (3^(i-1) mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// Weights of the 8 body characters of the organization code (GB 11714).
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A validated unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

/// Why a string is not a valid USCC. Positions are 1-based, as people count them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsccError {
    /// Not 18 characters long.
    Length {
        /// Characters found.
        found: usize,
    },
    /// A character outside the USCC alphabet (digits and capitals except I, O, S, V, Z).
    Character {
        /// Position of the character.
        position: usize,
        /// The character found.
        found: char,
    },
    /// Positions 3–8 (the division code) must be digits.
    DivisionDigit {
        /// Position of the character.
        position: usize,
        /// The character found.
        found: char,
    },
    /// Position 17, the organization code's check character (GB 11714), is wrong.
    OrgCodeCheck {
        /// The character that the first 16 positions require.
        expected: char,
        /// The character found.
        found: char,
    },
    /// Position 18, the mod-31 check character, is wrong.
    Check {
        /// The character that the first 17 positions require.
        expected: char,
        /// The character found.
        found: char,
    },
}

impl UsccError {
    /// The position at fault (1-based), if the error concerns one.
    pub fn position(&self) -> Option<usize> {
        match self {
            UsccError::Length { .. } => None,
            UsccError::Character { position, .. } | UsccError::DivisionDigit { position, .. } => {
                Some(*position)
            }
            UsccError::OrgCodeCheck { .. } => Some(17),
            UsccError::Check { .. } => Some(18),
        }
    }

    /// The message for a user, from the catalogue.
    pub fn message(&self) -> crate::i18n::Msg {
        use crate::i18n::Msg;
        match self {
            UsccError::Length { found } => Msg::new("uscc.error.length").with("found", found),
            UsccError::Character { position, found } => Msg::new("uscc.error.character")
                .with("position", position)
                .with("found", found),
            UsccError::DivisionDigit { position, found } => Msg::new("uscc.error.division")
                .with("position", position)
                .with("found", found),
            UsccError::OrgCodeCheck { expected, found } => Msg::new("uscc.error.org_check")
                .with("expected", expected)
                .with("found", found),
            UsccError::Check { expected, found } => Msg::new("uscc.error.check")
                .with("expected", expected)
                .with("found", found),
        }
    }
}

impl fmt::Display for UsccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message().render(crate::i18n::Lang::En))
    }
}

impl std::error::Error for UsccError {}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// The GB 11714 value of an organization-code character: digits 0–9, letters A = 10 … Z = 35.
fn org_value(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => (c - b'0') as u32,
        _ => (c - b'A') as u32 + 10,
    }
}

/// The GB 11714 check character for an 8-character organization-code body.
fn org_check(body: &[u8]) -> char {
    let sum: u32 = body
        .iter()
        .zip(ORG_WEIGHTS)
        .map(|(&c, w)| org_value(c) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    }
}

/// The mod-31 check character for the first 17 characters.
fn check(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| value(c).unwrap_or(0) * w)
        .sum();
    char::from(ALPHABET[((31 - sum % 31) % 31) as usize])
}

impl Uscc {
    /// Validates a code. Surrounding spaces are ignored and lower-case letters accepted (people
    /// type them); everything else must be exact.
    pub fn parse(input: &str) -> Result<Uscc, UsccError> {
        let code = input.trim().to_ascii_uppercase();
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 18 {
            return Err(UsccError::Length { found: chars.len() });
        }
        for (i, &ch) in chars.iter().enumerate() {
            if !ch.is_ascii() || value(ch as u8).is_none() {
                return Err(UsccError::Character {
                    position: i + 1,
                    found: ch,
                });
            }
        }
        let bytes = code.as_bytes();
        for (i, &b) in bytes.iter().enumerate().take(8).skip(2) {
            if !b.is_ascii_digit() {
                return Err(UsccError::DivisionDigit {
                    position: i + 1,
                    found: b as char,
                });
            }
        }
        let expected = org_check(&bytes[8..16]);
        if bytes[16] as char != expected {
            return Err(UsccError::OrgCodeCheck {
                expected,
                found: bytes[16] as char,
            });
        }
        let expected = check(&bytes[..17]);
        if bytes[17] as char != expected {
            return Err(UsccError::Check {
                expected,
                found: bytes[17] as char,
            });
        }
        Ok(Uscc(code))
    }

    /// Generates the code for a new registration: registration authority `5` (civil affairs),
    /// the category (`1` social group, `2` private non-enterprise unit, `3` foundation, `9`
    /// other), the registering authority's 6-digit division, and an organization code of `MJ`
    /// (the prefix civil-affairs codes carry since 2016) and a 6-digit serial, with both check
    /// characters computed. `serial` must be below 1,000,000.
    pub fn generate(category: char, division: &str, serial: u32) -> Uscc {
        assert!(
            matches!(category, '1' | '2' | '3' | '9'),
            "civil-affairs category must be 1, 2, 3 or 9"
        );
        assert!(
            division.len() == 6 && division.bytes().all(|b| b.is_ascii_digit()),
            "division must be 6 digits"
        );
        assert!(serial < 1_000_000, "serial must have at most 6 digits");
        let mut code = format!("5{category}{division}MJ{serial:06}");
        code.push(org_check(&code.as_bytes()[8..16]));
        code.push(check(code.as_bytes()));
        Uscc(code)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Positions 3–8: the registering authority's division code.
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }

    /// Position 2: the organization category under its registration authority.
    pub fn category(&self) -> char {
        self.0.as_bytes()[1] as char
    }

    /// Position 1: the registration authority (`5` = civil affairs).
    pub fn authority(&self) -> char {
        self.0.as_bytes()[0] as char
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Real published codes (DOMAIN §1.5–1.6); each passes both checks.
    const REAL: &[&str] = &[
        "52120116MJ0631127X",
        "52110000MJ0163191U",
        "52110000MJ0166456X",
        "51110000MJ0101505U",
        "53640000MJX1736997",
        "91310115MA1K3BTP2B",
        "91340600MA2PBM9HXD",
        "53100000500019795A",
        "91110000600037341L",
    ];

    #[test]
    fn real_codes_validate() {
        for code in REAL {
            assert_eq!(
                Uscc::parse(code).map(|u| u.0),
                Ok(code.to_string()),
                "{code}"
            );
        }
        assert_eq!(
            Uscc::parse(" 52120116mj0631127x ").unwrap().as_str(),
            "52120116MJ0631127X"
        );
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(Uscc::parse("5212"), Err(UsccError::Length { found: 4 }));
        assert_eq!(
            Uscc::parse("52120116MJ0631127I"),
            Err(UsccError::Character {
                position: 18,
                found: 'I'
            })
        );
        assert_eq!(
            Uscc::parse("521201A6MJ0631127X"),
            Err(UsccError::DivisionDigit {
                position: 7,
                found: 'A'
            })
        );
        assert_eq!(
            Uscc::parse("52120116MJ0631128X"),
            Err(UsccError::OrgCodeCheck {
                expected: '7',
                found: '8'
            })
        );
        // A letter authority code is allowed by the standard (python-stdnum wrongly refuses it).
        let y = Uscc::generate('1', "120116", 1)
            .as_str()
            .replacen('5', "Y", 1);
        let fixed = format!("{}{}", &y[..17], check(&y.as_bytes()[..17]));
        assert!(Uscc::parse(&fixed).is_ok());
    }

    #[test]
    fn mod31_mistakes_are_caught_at_position_18() {
        // Changing the division digits keeps the organization code valid, so only the mod-31
        // character can catch it.
        let err = Uscc::parse("52120117MJ0631127X").unwrap_err();
        assert!(matches!(err, UsccError::Check { found: 'X', .. }));
        assert_eq!(err.position(), Some(18));
    }

    #[test]
    fn generated_code_parts() {
        let u = Uscc::generate('2', "120116", 63_112);
        assert_eq!(u.division(), "120116");
        assert_eq!(u.category(), '2');
        assert_eq!(u.authority(), '5');
        assert!(u.as_str().starts_with("52120116MJ"));
    }

    proptest! {
        #[test]
        fn every_generated_code_validates(
            category in prop::sample::select(vec!['1', '2', '3', '9']),
            division in 110000u32..660000,
            serial in 0u32..1_000_000,
        ) {
            let code = Uscc::generate(category, &division.to_string(), serial);
            prop_assert_eq!(Uscc::parse(code.as_str()), Ok(code.clone()));
        }

        #[test]
        fn every_single_character_change_is_caught(
            category in prop::sample::select(vec!['1', '2', '3', '9']),
            division in 110000u32..660000,
            serial in 0u32..1_000_000,
            position in 0usize..18,
            replacement in prop::sample::select(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".to_vec()),
        ) {
            let code = Uscc::generate(category, &division.to_string(), serial);
            let mut bytes = code.as_str().as_bytes().to_vec();
            prop_assume!(bytes[position] != replacement);
            bytes[position] = replacement;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(Uscc::parse(&changed).is_err(), "{} accepted", changed);
        }
    }

    #[test]
    fn every_single_substitution_of_real_codes_is_caught() {
        for code in REAL {
            for pos in 0..18 {
                for &c in ALPHABET {
                    let mut b = code.as_bytes().to_vec();
                    if b[pos] == c {
                        continue;
                    }
                    b[pos] = c;
                    let s = String::from_utf8(b).unwrap();
                    let err = Uscc::parse(&s).expect_err(&s);
                    // Positions 1–16 are caught by a check character or the digit rule.
                    assert!(err.position().is_some(), "{s}: {err:?}");
                }
            }
        }
    }
}
