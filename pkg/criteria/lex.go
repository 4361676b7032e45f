package criteria

import (
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokDate
	tokDateTime
	tokOp // = != <> < <= > >=
	tokLParen
	tokRParen
	tokComma
	// Keywords (matched case-insensitively).
	tokAnd
	tokOr
	tokNot
	tokLike
	tokIn
	tokIs
	tokNull
	tokTrue
	tokFalse
)

var keywords = map[string]tokKind{
	"and": tokAnd, "or": tokOr, "not": tokNot, "like": tokLike, "in": tokIn,
	"is": tokIs, "null": tokNull, "true": tokTrue, "false": tokFalse,
}

// token is one lexeme. col is the 1-based column (in characters) of its
// first character. For strings, val is the decoded text and pat the LIKE
// pattern form (see stringLit).
type token struct {
	kind tokKind
	text string // source text (identifiers, numbers, dates, operators)
	val  string
	pat  string
	col  int
}

// describe names a token the way an error message shows it.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "the end of the expression"
	case tokString:
		return "a text value"
	default:
		return "'" + t.text + "'"
	}
}

// lexer turns source text into tokens. It never allocates more than a
// constant factor of the input, which Parse bounds.
type lexer struct {
	src string
	pos int // byte offset
	col int // 1-based column of pos
}

func (l *lexer) errAt(col int, format string, args ...any) *SyntaxError {
	return newSyntaxError(col, format, args...)
}

// next returns the next token or a *SyntaxError.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			break
		}
		l.pos += n
		l.col++
	}
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, col: l.col}, nil
	}
	start, startCol := l.pos, l.col
	c := l.src[l.pos]
	one := func(k tokKind) (token, error) {
		l.pos++
		l.col++
		return token{kind: k, text: l.src[start:l.pos], col: startCol}, nil
	}
	switch {
	case c == '(':
		return one(tokLParen)
	case c == ')':
		return one(tokRParen)
	case c == ',':
		return one(tokComma)
	case c == '=':
		return one(tokOp)
	case c == '!':
		if strings.HasPrefix(l.src[l.pos:], "!=") {
			l.pos += 2
			l.col += 2
			return token{kind: tokOp, text: "!=", col: startCol}, nil
		}
		return token{}, l.errAt(startCol, "'!' must be followed by '=' (write != for \"not equal\")")
	case c == '<' || c == '>':
		l.pos++
		l.col++
		if l.pos < len(l.src) && (l.src[l.pos] == '=' || (c == '<' && l.src[l.pos] == '>')) {
			l.pos++
			l.col++
		}
		return token{kind: tokOp, text: l.src[start:l.pos], col: startCol}, nil
	case c == '\'':
		return l.stringLit()
	case c == '-' || c == '+' || isDigit(c):
		return l.numberOrDate()
	case isLetter(c):
		for l.pos < len(l.src) && (isLetter(l.src[l.pos]) || isDigit(l.src[l.pos]) || l.src[l.pos] == '_' || l.src[l.pos] == '.') {
			l.pos++
			l.col++
		}
		text := l.src[start:l.pos]
		if strings.HasSuffix(text, ".") || strings.Contains(text, "..") {
			return token{}, l.errAt(startCol, "%q is not a field name", text)
		}
		if k, ok := keywords[strings.ToLower(text)]; ok {
			return token{kind: k, text: text, col: startCol}, nil
		}
		return token{kind: tokIdent, text: text, col: startCol}, nil
	case c == '"':
		return token{}, l.errAt(startCol, "text values go in single quotes ('…'), not double quotes")
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, l.errAt(startCol, "unexpected character %q", r)
}

// stringLit reads a single-quoted literal with SOQL's escapes: \n \r \t
// \b \f \" \' \\ (letters in either case), and \% \_ which stand for a
// literal percent sign or underscore in a LIKE pattern.
//
// val is the decoded text (\% and \_ decode to % and _). pat is the
// pattern form LIKE uses: the decoded text in which a literal backslash,
// percent sign or underscore that came from an escape is written with a
// backslash before it, and an unescaped % or _ is a wildcard.
func (l *lexer) stringLit() (token, error) {
	startCol := l.col
	l.pos++
	l.col++
	var val, pat strings.Builder
	for {
		if l.pos >= len(l.src) {
			return token{}, l.errAt(startCol, "the text value starting here has no closing quote (')")
		}
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if r == utf8.RuneError && n == 1 {
			return token{}, l.errAt(l.col, "the text is not valid UTF-8")
		}
		switch r {
		case '\'':
			l.pos++
			l.col++
			return token{kind: tokString, val: val.String(), pat: pat.String(), col: startCol}, nil
		case '\\':
			if l.pos+1 >= len(l.src) {
				return token{}, l.errAt(l.col, "a backslash must be followed by a character to escape")
			}
			e := l.src[l.pos+1]
			var d byte
			switch e {
			case 'n', 'N':
				d = '\n'
			case 'r', 'R':
				d = '\r'
			case 't', 'T':
				d = '\t'
			case 'b', 'B':
				d = '\b'
			case 'f', 'F':
				d = '\f'
			case '"', '\'':
				d = e
			case '\\', '%', '_':
				val.WriteByte(e)
				pat.WriteByte('\\')
				pat.WriteByte(e)
				l.pos += 2
				l.col += 2
				continue
			default:
				return token{}, l.errAt(l.col, "unknown escape '\\%c' (use \\\\ for a backslash)", e)
			}
			val.WriteByte(d)
			pat.WriteByte(d)
			l.pos += 2
			l.col += 2
		default:
			val.WriteRune(r)
			pat.WriteRune(r)
			l.pos += n
			l.col++
		}
	}
}

// numberOrDate reads a number (-12, 3.5), a date (2026-12-31) or a
// datetime (2026-12-31T10:00:00Z, 2026-12-31T10:00:00+02:00).
func (l *lexer) numberOrDate() (token, error) {
	start, startCol := l.pos, l.col
	if c := l.src[l.pos]; c == '-' || c == '+' {
		l.pos++
		l.col++
	}
	for l.pos < len(l.src) && strings.IndexByte("0123456789+-.:TZtz", l.src[l.pos]) >= 0 {
		l.pos++
		l.col++
	}
	text := l.src[start:l.pos]
	switch {
	case isNumber(text):
		return token{kind: tokNumber, text: text, col: startCol}, nil
	case isDate(text):
		return token{kind: tokDate, text: text, col: startCol}, nil
	case isDateTime(text):
		return token{kind: tokDateTime, text: text, col: startCol}, nil
	case len(text) >= 10 && isDate(text[:10]):
		return token{}, l.errAt(startCol, "%q is not a valid datetime (write it as 2026-12-31T10:00:00Z or with an offset such as +02:00)", text)
	case len(text) >= 5 && text[4] == '-':
		return token{}, l.errAt(startCol, "%q is not a valid date (write dates as 2026-12-31)", text)
	}
	return token{}, l.errAt(startCol, "%q is not a number", text)
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isNumber reports whether s is an optional minus sign, digits, and an
// optional fraction: SOQL's numeric literal.
func isNumber(s string) bool {
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) {
		return false
	}
	return !hasDot || frac != "" && allDigits(frac)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
