// Package criteria is crmsync's selective-sync rule language: a small,
// SOQL-WHERE-like expression per object, such as
//
//	Sync_to_HubSpot__c = true AND Email LIKE '%@%'
//
// that a record must satisfy to sync. It is parsed and checked when
// settings are saved ([Parse], [Expr.Check] against the object's field
// metadata), and evaluated on the record crmsync has just re-read
// ([Expr.Eval]). The package is pure: no I/O, no clock.
//
// # Language reference
//
// An expression is one or more conditions joined with AND, OR and NOT, with
// parentheses to group them. Keywords (AND, OR, NOT, LIKE, IN, IS, NULL,
// TRUE, FALSE) may be written in any case. Field names are API names
// (Email, Sync_to_HubSpot__c, Account.Name) and, as in Salesforce, are
// matched ignoring case.
//
// Conditions:
//
//	Field = value         equal ("<>" is accepted for !=)
//	Field != value        not equal
//	Field < value         less than; also <=, >, >=
//	Field LIKE 'pattern'  text pattern: % is any run of characters, _ is
//	                      one character; letters match ignoring case
//	Field IN (v1, v2)     equal to one of the values
//	Field NOT IN (v1, v2) equal to none of the values
//	Field IS NULL         the field is empty; IS NOT NULL: it has a value
//	Field = null          the same as IS NULL (!= null: IS NOT NULL)
//
// To negate a LIKE, write NOT before the condition: NOT Email LIKE
// '%@example.com'.
//
// Values:
//
//	'text'                 single quotes; escapes as in SOQL: \' \" \\ \n
//	                       \r \t \b \f, and in LIKE patterns \% and \_ for a
//	                       literal percent sign or underscore
//	42  -3.5               numbers (no exponent, no thousands separator)
//	true  false            checkbox values
//	null                   no value (only with = and !=)
//	2026-12-31             a date
//	2026-12-31T10:00:00Z   a datetime, in UTC (Z) or with an offset
//	                       (2026-12-31T12:00:00+02:00)
//
// Precedence is NOT, then AND, then OR: "a OR b AND NOT c" means
// "a OR (b AND (NOT c))". An expression is at most [MaxLength] bytes and
// nests parentheses and NOTs at most [MaxDepth] deep.
//
// # Types
//
// [Expr.Check] checks each condition against the field's [FieldType]:
//
//	Text           = != < <= > >= LIKE IN NOT IN, with 'text'
//	Picklist       = != LIKE IN NOT IN, with 'text'
//	MultiPicklist  = != with 'a;b' (compared as a set: 'b;a' is the same)
//	ID             = != IN NOT IN, with 'text' (a record id)
//	Number         = != < <= > >= IN NOT IN, with a number
//	Bool           = != with true or false
//	Date           = != < <= > >= IN NOT IN, with a date
//	DateTime       = != < <= > >= IN NOT IN, with a datetime
//
// IS NULL, IS NOT NULL, = null and != null work on every type.
//
// # Meaning
//
// Text comparisons (=, !=, <, >, IN, LIKE) ignore case, as SOQL's do.
// A value with ';' in it (or a literal with ';') is compared as a set of
// ';'-separated values, which is what multi-select picklists need.
// Numbers compare exactly as decimals ("42" = 42.0). Datetimes compare as
// instants, whatever their offsets.
//
// An empty value is null. As in SOQL, there is no "unknown": a condition
// on a null value is false for =, <, <=, >, >=, LIKE and IN, and true for
// != and NOT IN (null differs from every value). So Country != 'US' holds
// for a record without a country; write Country != 'US' AND Country IS NOT
// NULL to exclude it. Compared with true or false, an empty value is false,
// as SOQL treats a null checkbox (HubSpot leaves an unset checkbox empty).
//
// # What is not there
//
// SOQL's relative date literals (TODAY, LAST_N_DAYS:30), INCLUDES and
// EXCLUDES, semi-joins, and functions are not part of the language: a rule
// must give the same answer for the same record whenever it is evaluated,
// and it tests only the record's own fields as the engine reads them.
package criteria
