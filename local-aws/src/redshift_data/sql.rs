//! SQL text handling for the Redshift Data API stand-in: splitting a string
//! into statements, binding `:name` parameters, and recognising the statements
//! the stand-in serves itself (Redshift's physical-design `ALTER TABLE`s, which
//! PostgreSQL has no equivalent for). A small lexer that knows quotes, quoted
//! identifiers, dollar quotes and comments; it does not parse SQL.

/// What a stretch of SQL text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Code,
    /// '…', E'…', $tag$…$tag$
    Literal,
    /// "…"
    Identifier,
    Comment,
}

/// Splits `sql` into (kind, byte range) pieces.
fn lex(sql: &str) -> Vec<(Kind, std::ops::Range<usize>)> {
    let bytes = sql.as_bytes();
    let mut pieces = Vec::new();
    let mut code_start = 0;
    let mut i = 0;
    let flush = |pieces: &mut Vec<_>, from: usize, to: usize| {
        if to > from {
            pieces.push((Kind::Code, from..to));
        }
    };
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        let end = match c {
            b'-' if next == Some(b'-') => {
                let end = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
                Some((Kind::Comment, end))
            }
            b'/' if next == Some(b'*') => {
                // PostgreSQL nests block comments.
                let mut depth = 0usize;
                let mut j = i;
                while j < bytes.len() {
                    if bytes[j] == b'/' && bytes.get(j + 1) == Some(&b'*') {
                        depth += 1;
                        j += 2;
                    } else if bytes[j] == b'*' && bytes.get(j + 1) == Some(&b'/') {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                Some((Kind::Comment, j.min(bytes.len())))
            }
            b'\'' => {
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'e' | b'E')
                    && (i < 2 || !is_word_byte(bytes[i - 2]));
                Some((Kind::Literal, quoted_end(bytes, i, b'\'', escapes)))
            }
            b'"' => Some((Kind::Identifier, quoted_end(bytes, i, b'"', false))),
            b'$' if i == 0 || !is_word_byte(bytes[i - 1]) => dollar_tag(&sql[i..]).map(|tag| {
                let body = i + tag.len();
                let end = sql[body..]
                    .find(tag)
                    .map_or(bytes.len(), |n| body + n + tag.len());
                (Kind::Literal, end)
            }),
            _ => None,
        };
        match end {
            Some((kind, end)) => {
                flush(&mut pieces, code_start, i);
                pieces.push((kind, i..end));
                i = end;
                code_start = end;
            }
            None => i += 1,
        }
    }
    flush(&mut pieces, code_start, bytes.len());
    pieces
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The end (exclusive) of a quoted stretch starting at `start`; a doubled
/// quote stays inside, and with `escapes` a backslash escapes the next byte.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, escapes: bool) -> usize {
    let mut j = start + 1;
    while j < bytes.len() {
        if escapes && bytes[j] == b'\\' {
            j += 2;
            continue;
        }
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

/// `$tag$` or `$$` at the start of `text` (not `$1`, a positional parameter).
fn dollar_tag(text: &str) -> Option<&str> {
    let rest = &text[1..];
    let close = rest.find('$')?;
    let tag = &rest[..close];
    let valid = tag.is_empty()
        || (tag
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && tag.chars().all(|c| c.is_alphanumeric() || c == '_'));
    valid.then(|| &text[..close + 2])
}

/// The statements in `sql`, in order, without their `;` and without pieces
/// that hold only whitespace and comments.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut has_code = false;
    for (kind, range) in lex(sql) {
        match kind {
            Kind::Code => {
                let text = &sql[range.clone()];
                let mut from = range.start;
                for (offset, _) in text.match_indices(';') {
                    let at = range.start + offset;
                    if has_code || !sql[from..at].trim().is_empty() {
                        statements.push(sql[start..at].trim().to_owned());
                    }
                    start = at + 1;
                    from = at + 1;
                    has_code = false;
                }
                if !sql[from..range.end].trim().is_empty() {
                    has_code = true;
                }
            }
            Kind::Literal | Kind::Identifier => has_code = true,
            Kind::Comment => {}
        }
    }
    if has_code {
        statements.push(sql[start..].trim().to_owned());
    }
    statements
}

/// Replaces each `:name` outside literals and comments by the parameter's
/// value as a quoted literal (PostgreSQL then types it from its context, as
/// Redshift converts parameter values implicitly). `::` casts are left alone,
/// and so is a `:name` with no parameter of that name.
pub fn bind_parameters(sql: &str, parameters: &[(String, String)]) -> String {
    if parameters.is_empty() {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len());
    for (kind, range) in lex(sql) {
        let text = &sql[range];
        if kind != Kind::Code {
            out.push_str(text);
            continue;
        }
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            let after_colon = i > 0 && bytes[i - 1] == b':';
            if c == b':' && !after_colon && bytes.get(i + 1) != Some(&b':') {
                let name_len = text[i + 1..]
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                let name = &text[i + 1..i + 1 + name_len];
                if let Some((_, value)) = parameters.iter().find(|(n, _)| n == name) {
                    out.push('\'');
                    out.push_str(&value.replace('\'', "''"));
                    out.push('\'');
                    i += 1 + name_len;
                    continue;
                }
            }
            let width = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[i..i + width]);
            i += width;
        }
    }
    out
}

/// A token of a statement's code (literals kept with their quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A bare word, as written.
    Word(String),
    /// "quoted identifier", without its quotes.
    Quoted(String),
    /// 'literal', without its quotes (doubled quotes undone).
    Literal(String),
    Number(String),
    Punct(char),
}

impl Token {
    /// A bare word equal to `keyword`, ignoring case.
    pub fn is(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    /// The token as SQL text.
    pub fn sql(&self) -> String {
        match self {
            Token::Word(w) | Token::Number(w) => w.clone(),
            Token::Quoted(q) => format!("\"{}\"", q.replace('"', "\"\"")),
            Token::Literal(l) => format!("'{}'", l.replace('\'', "''")),
            Token::Punct(c) => c.to_string(),
        }
    }

    /// An identifier's name as the catalog holds it (bare words fold to lower case).
    pub fn identifier(&self) -> Option<String> {
        match self {
            Token::Word(w) => Some(w.to_lowercase()),
            Token::Quoted(q) => Some(q.clone()),
            _ => None,
        }
    }
}

/// The tokens of one statement (comments dropped).
pub fn tokens(statement: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for (kind, range) in lex(statement) {
        let text = &statement[range];
        match kind {
            Kind::Comment => {}
            Kind::Identifier => {
                let inner = text.strip_prefix('"').unwrap_or(text);
                let inner = inner.strip_suffix('"').unwrap_or(inner);
                out.push(Token::Quoted(inner.replace("\"\"", "\"")));
            }
            Kind::Literal => {
                let inner = text.strip_prefix('\'').unwrap_or(text);
                let inner = inner.strip_suffix('\'').unwrap_or(inner);
                // An E'' prefix was lexed as a word just before: drop it.
                if matches!(out.last(), Some(Token::Word(w)) if w.eq_ignore_ascii_case("e")) {
                    out.pop();
                }
                out.push(Token::Literal(inner.replace("''", "'")));
            }
            Kind::Code => {
                let mut chars = text.char_indices().peekable();
                while let Some((start, c)) = chars.next() {
                    if c.is_whitespace() {
                        continue;
                    }
                    if c.is_alphabetic() || c == '_' {
                        let mut end = start + c.len_utf8();
                        while let Some(&(i, d)) = chars.peek() {
                            if d.is_alphanumeric() || d == '_' || d == '$' {
                                end = i + d.len_utf8();
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        out.push(Token::Word(text[start..end].to_owned()));
                    } else if c.is_ascii_digit() {
                        let mut end = start + 1;
                        while let Some(&(i, d)) = chars.peek() {
                            if d.is_ascii_digit() || d == '.' {
                                end = i + 1;
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        out.push(Token::Number(text[start..end].to_owned()));
                    } else {
                        out.push(Token::Punct(c));
                    }
                }
            }
        }
    }
    out
}

/// The first word of a statement, upper-cased ("" when it has none).
pub fn verb(tokens: &[Token]) -> String {
    match tokens.first() {
        Some(Token::Word(w)) => w.to_uppercase(),
        _ => String::new(),
    }
}

/// For Redshift's physical-design statements (`ALTER TABLE t ALTER DISTSTYLE …
/// | DISTKEY c | [COMPOUND|INTERLEAVED] SORTKEY (…) | ENCODE AUTO`, `ALTER
/// TABLE t ALTER COLUMN c ENCODE e`), which change no data and have no
/// PostgreSQL equivalent: a query that fails exactly when the table or a named
/// column does not exist. `None` for every other statement.
pub fn redshift_design_check(tokens: &[Token]) -> Option<String> {
    let [alter, table, rest @ ..] = tokens else {
        return None;
    };
    if !alter.is("ALTER") || !table.is("TABLE") {
        return None;
    }
    // The table name: words, quoted names and dots up to the next ALTER.
    let alter_at = rest.iter().position(|t| t.is("ALTER"))?;
    let (name, clause) = rest.split_at(alter_at);
    if name.is_empty() {
        return None;
    }
    let name_sql: String = name.iter().map(Token::sql).collect();
    let clause = &clause[1..];
    let mut columns: Vec<&Token> = Vec::new();
    match clause {
        [first, rest @ ..] if first.is("DISTSTYLE") => {
            if let Some(at) = rest.iter().position(|t| t.is("DISTKEY")) {
                columns.push(rest.get(at + 1)?);
            }
        }
        [first, column] if first.is("DISTKEY") => columns.push(column),
        [first, rest @ ..]
            if first.is("SORTKEY") || first.is("COMPOUND") || first.is("INTERLEAVED") =>
        {
            let rest = if first.is("SORTKEY") {
                rest
            } else {
                match rest {
                    [sortkey, rest @ ..] if sortkey.is("SORTKEY") => rest,
                    _ => return None,
                }
            };
            match rest {
                [only] if only.is("AUTO") || only.is("NONE") => {}
                [Token::Punct('('), inner @ .., Token::Punct(')')] => {
                    columns.extend(inner.iter().filter(|t| !matches!(t, Token::Punct(','))))
                }
                _ => return None,
            }
        }
        [encode, auto] if encode.is("ENCODE") && auto.is("AUTO") => {}
        [column_word, column, encode, _] if column_word.is("COLUMN") && encode.is("ENCODE") => {
            columns.push(column);
        }
        _ => return None,
    }
    if columns
        .iter()
        .any(|c| !matches!(c, Token::Word(_) | Token::Quoted(_)))
    {
        return None;
    }
    let select = if columns.is_empty() {
        "1".to_owned()
    } else {
        columns
            .iter()
            .map(|c| c.sql())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(format!("SELECT {select} FROM {name_sql} WHERE false"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_top_level_semicolons_only() {
        let sql = "-- a comment; not a split\nSELECT 'a;b', \"c;d\" FROM t; /* x; */ \
                   INSERT INTO t VALUES ($$;$$, $q$;'$q$, E'\\';');\n-- trailing; comment\n ;";
        assert_eq!(
            split_statements(sql),
            vec![
                "-- a comment; not a split\nSELECT 'a;b', \"c;d\" FROM t".to_owned(),
                "/* x; */ INSERT INTO t VALUES ($$;$$, $q$;'$q$, E'\\';')".to_owned(),
            ]
        );
        assert!(split_statements(" -- only a comment\n ; ").is_empty());
        assert_eq!(split_statements("SELECT 1"), vec!["SELECT 1".to_owned()]);
    }

    #[test]
    fn binds_named_parameters_as_quoted_literals() {
        let parameters = vec![
            ("day".to_owned(), "2024-03-01".to_owned()),
            ("name".to_owned(), "O'Brien".to_owned()),
        ];
        assert_eq!(
            bind_parameters(
                "SELECT :day::date, ':day', x::text, :name, :missing -- :day",
                &parameters
            ),
            "SELECT '2024-03-01'::date, ':day', x::text, 'O''Brien', :missing -- :day"
        );
    }

    #[test]
    fn tokens_fold_words_and_keep_literals() {
        let t = tokens("COPY s.\"T\" (a, b) FROM 's3://b/k''s' IGNOREHEADER AS 1");
        assert!(t[0].is("copy"));
        assert_eq!(t[3].identifier().as_deref(), Some("T"));
        assert!(t.contains(&Token::Literal("s3://b/k's".into())));
        assert!(t.contains(&Token::Number("1".into())));
    }

    #[test]
    fn redshift_design_statements_become_checks() {
        let check = |sql: &str| redshift_design_check(&tokens(sql));
        assert_eq!(
            check("ALTER TABLE s.fact_sales ALTER DISTSTYLE KEY DISTKEY customer_key").as_deref(),
            Some("SELECT customer_key FROM s.fact_sales WHERE false")
        );
        assert_eq!(
            check("ALTER TABLE s.d ALTER DISTSTYLE ALL").as_deref(),
            Some("SELECT 1 FROM s.d WHERE false")
        );
        assert_eq!(
            check("ALTER TABLE s.f ALTER DISTKEY customer_key").as_deref(),
            Some("SELECT customer_key FROM s.f WHERE false")
        );
        assert_eq!(
            check("alter table s.f alter compound sortkey (date_key, id)").as_deref(),
            Some("SELECT date_key, id FROM s.f WHERE false")
        );
        assert_eq!(
            check("ALTER TABLE s.f ALTER SORTKEY AUTO").as_deref(),
            Some("SELECT 1 FROM s.f WHERE false")
        );
        assert_eq!(check("ALTER TABLE s.f ADD COLUMN x int"), None);
        assert_eq!(check("ALTER TABLE s.f ALTER COLUMN x TYPE bigint"), None);
    }
}
