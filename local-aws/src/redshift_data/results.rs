//! A statement's rows as the Data API types them.

use super::*;

/// The typed result of a statement that returned rows (the column types come
/// from preparing the statement again: the simple protocol sends only text).
pub(super) async fn result_set(
    client: &Client,
    statement: &str,
    rows: &[tokio_postgres::SimpleQueryRow],
) -> ResultSet {
    let prepared = client.prepare(statement).await.ok();
    let columns: Vec<(String, Type, Value)> = match &prepared {
        Some(prepared) => {
            let mut columns = Vec::new();
            for column in prepared.columns() {
                let meta = column_metadata(client, column).await;
                columns.push((column.name().to_owned(), column.type_().clone(), meta));
            }
            columns
        }
        None => rows
            .first()
            .map(|row| {
                row.columns()
                    .iter()
                    .map(|c| {
                        let meta = json!({
                            "name": c.name(), "label": c.name(), "typeName": "varchar",
                            "isCaseSensitive": true, "isCurrency": false, "isSigned": false,
                            "nullable": 2, "precision": 0, "scale": 0, "length": 0,
                            "schemaName": "", "tableName": "",
                        });
                        (c.name().to_owned(), Type::VARCHAR, meta)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut size = 0i64;
    let records = rows
        .iter()
        .map(|row| {
            Value::Array(
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, type_, _))| {
                        let text = row.get(i);
                        size += text.map_or(0, |t| i64::try_from(t.len()).unwrap_or(0));
                        field(type_, text)
                    })
                    .collect(),
            )
        })
        .collect();
    ResultSet {
        columns: columns.into_iter().map(|(_, _, meta)| meta).collect(),
        records,
        size,
    }
}

/// One value as the Data API's typed `Field`.
pub(super) fn field(type_: &Type, text: Option<&str>) -> Value {
    let Some(text) = text else {
        return json!({"isNull": true});
    };
    match *type_ {
        Type::BOOL => json!({"booleanValue": text == "t"}),
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => match text.parse::<i64>() {
            Ok(n) => json!({"longValue": n}),
            Err(_) => json!({"stringValue": text}),
        },
        Type::FLOAT4 | Type::FLOAT8 => match text.parse::<f64>() {
            Ok(x) if x.is_finite() => json!({"doubleValue": x}),
            _ => json!({"stringValue": text}),
        },
        Type::BYTEA => {
            let hex = text.strip_prefix("\\x").unwrap_or(text);
            let bytes: Vec<u8> = (0..hex.len() / 2)
                .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
                .collect();
            json!({"blobValue": base64::engine::general_purpose::STANDARD.encode(bytes)})
        }
        _ => json!({"stringValue": text}),
    }
}

pub(super) async fn column_metadata(client: &Client, column: &tokio_postgres::Column) -> Value {
    let type_ = column.type_();
    let modifier = column.type_modifier();
    let (mut precision, mut scale, mut length) = (0, 0, 0);
    match *type_ {
        Type::NUMERIC if modifier >= 4 => {
            precision = ((modifier - 4) >> 16) & 0xFFFF;
            scale = (modifier - 4) & 0xFFFF;
        }
        Type::VARCHAR | Type::BPCHAR if modifier >= 4 => {
            length = modifier - 4;
            precision = length;
        }
        _ => {}
    }
    let signed = matches!(
        *type_,
        Type::INT2 | Type::INT4 | Type::INT8 | Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC
    );
    let text_like = matches!(
        *type_,
        Type::VARCHAR | Type::BPCHAR | Type::TEXT | Type::NAME
    );
    // nullable: 0 no nulls, 1 nullable, 2 unknown (JDBC's convention, which Redshift follows).
    let (mut schema, mut table, mut nullable) = (String::new(), String::new(), 2);
    if let (Some(oid), Some(attnum)) = (column.table_oid(), column.column_id())
        && oid != 0
        && let Ok(row) = client
            .query_one(
                "SELECT n.nspname::text, c.relname::text, a.attnotnull
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = $2
                 WHERE c.oid = $1",
                &[&oid, &attnum],
            )
            .await
    {
        schema = row.get(0);
        table = row.get(1);
        let not_null: bool = row.get(2);
        nullable = if not_null { 0 } else { 1 };
    }
    json!({
        "name": column.name(),
        "label": column.name(),
        "typeName": type_.name(),
        "isCaseSensitive": text_like,
        "isCurrency": false,
        "isSigned": signed,
        "nullable": nullable,
        "precision": precision,
        "scale": scale,
        "length": length,
        "schemaName": schema,
        "tableName": table,
    })
}
