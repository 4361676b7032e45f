package criteria

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Bounds on what Parse accepts, so that a hostile or mistaken setting cannot
// make the parser or the evaluator use unbounded stack or memory.
const (
	// MaxLength is the longest expression Parse accepts, in bytes.
	MaxLength = 4096
	// MaxDepth is the deepest nesting of parentheses and NOT Parse accepts.
	MaxDepth = 50
)

// SyntaxError is a parse error: Col is the 1-based column (in characters)
// where the problem is, Msg says what is wrong in words a RevOps person
// understands.
type SyntaxError struct {
	Col int
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("criteria: %s at column %d", e.Msg, e.Col)
}

func newSyntaxError(col int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Col: col, Msg: fmt.Sprintf(format, args...)}
}

// Expr is a parsed criteria expression. It is immutable, so one Expr may be
// evaluated by many goroutines at once.
type Expr struct {
	root node
}

// node is one node of the syntax tree: *logic (AND/OR), *negation or
// *clause.
type node interface{ isNode() }

// logic is an AND or OR of two or more operands; nested operators of the
// same kind are flattened, so "a AND (b AND c)" and "a AND b AND c" are one
// node and render the same.
type logic struct {
	or   bool
	args []node
}

type negation struct{ x node }

// Operators of a clause.
const (
	opEq        = "="
	opNe        = "!="
	opLt        = "<"
	opLe        = "<="
	opGt        = ">"
	opGe        = ">="
	opLike      = "LIKE"
	opIn        = "IN"
	opNotIn     = "NOT IN"
	opIsNull    = "IS NULL"
	opIsNotNull = "IS NOT NULL"
)

// clause is one condition: Field op value(s).
type clause struct {
	field string
	op    string
	vals  []literal // one for comparisons and LIKE, one or more for IN, none for IS NULL
}

func (*logic) isNode()    {}
func (*negation) isNode() {}
func (*clause) isNode()   {}

// litKind is the type of a literal.
type litKind int

const (
	litString litKind = iota
	litNumber
	litBool
	litNull
	litDate
	litDateTime
)

func (k litKind) String() string {
	return [...]string{"text in quotes", "a number", "true or false", "null", "a date (2026-12-31)", "a datetime (2026-12-31T10:00:00Z)"}[k]
}

// literal is a value written in the expression.
type literal struct {
	kind litKind
	text string    // source form of numbers, dates and datetimes
	str  string    // decoded text of a string
	pat  string    // LIKE pattern form of a string (see lexer.stringLit)
	b    bool      // litBool
	num  *big.Rat  // litNumber
	t    time.Time // litDate (UTC midnight), litDateTime
}

// Parse parses a criteria expression (the language is described in the
// package documentation). A syntax error is a *SyntaxError; an expression
// longer than MaxLength or nested deeper than MaxDepth is refused with a
// *SyntaxError too.
func Parse(src string) (*Expr, error) {
	if len(src) > MaxLength {
		return nil, newSyntaxError(1, "the expression is %d characters long; the limit is %d", len(src), MaxLength)
	}
	p := &parser{lx: lexer{src: src, col: 1}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, newSyntaxError(1, "the expression is empty")
	}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		if p.tok.kind == tokRParen {
			return nil, newSyntaxError(p.tok.col, "')' has no matching '('")
		}
		return nil, newSyntaxError(p.tok.col, "expected AND, OR or the end of the expression, found %s", p.tok.describe())
	}
	return &Expr{root: root}, nil
}

type parser struct {
	lx  lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

// or := and { OR and }
func (p *parser) or(depth int) (node, error) {
	return p.chain(true, depth)
}

// and := not { AND not }
func (p *parser) and(depth int) (node, error) {
	return p.chain(false, depth)
}

// chain reads operands separated by OR (or is true) or by AND.
func (p *parser) chain(or bool, depth int) (node, error) {
	sep, operand := tokAnd, p.not
	if or {
		sep, operand = tokOr, p.and
	}
	var args []node
	for {
		n, err := operand(depth)
		if err != nil {
			return nil, err
		}
		args = append(args, n)
		if p.tok.kind != sep {
			return join(or, args), nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
}

// join makes a logic node of args, flattening operands of the same kind.
func join(or bool, args []node) node {
	if len(args) == 1 {
		return args[0]
	}
	var flat []node
	for _, a := range args {
		if l, ok := a.(*logic); ok && l.or == or {
			flat = append(flat, l.args...)
			continue
		}
		flat = append(flat, a)
	}
	return &logic{or: or, args: flat}
}

// not := NOT not | '(' or ')' | clause
func (p *parser) not(depth int) (node, error) {
	if depth >= MaxDepth {
		return nil, newSyntaxError(p.tok.col, "the expression is nested more than %d levels deep", MaxDepth)
	}
	switch p.tok.kind {
	case tokNot:
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return &negation{x: x}, nil
	case tokLParen:
		open := p.tok.col
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokRParen {
			return nil, newSyntaxError(p.tok.col, "expected a condition inside the parentheses")
		}
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			if p.tok.kind == tokEOF {
				return nil, newSyntaxError(open, "'(' is never closed")
			}
			return nil, newSyntaxError(p.tok.col, "expected AND, OR or ')', found %s", p.tok.describe())
		}
		return x, p.advance()
	case tokIdent:
		return p.clause()
	case tokEOF:
		return nil, newSyntaxError(p.tok.col, "expected a condition, found the end of the expression")
	}
	return nil, newSyntaxError(p.tok.col, "expected a field name, found %s", p.tok.describe())
}

// clause := Field op value | Field LIKE string | Field [NOT] IN ( values )
// | Field IS [NOT] NULL
func (p *parser) clause() (node, error) {
	c := &clause{field: p.tok.text}
	if err := p.advance(); err != nil {
		return nil, err
	}
	opTok := p.tok
	switch opTok.kind {
	case tokOp:
		c.op = opTok.text
		if c.op == "<>" {
			c.op = opNe
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		v, err := p.value(opTok)
		if err != nil {
			return nil, err
		}
		if v.kind == litNull && c.op != opEq && c.op != opNe {
			return nil, newSyntaxError(opTok.col, "only = and != can compare with null (or write %s IS NULL)", c.field)
		}
		c.vals = []literal{v}
	case tokLike:
		c.op = opLike
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokString {
			return nil, newSyntaxError(p.tok.col, "expected a text pattern in quotes after LIKE, found %s", p.tok.describe())
		}
		c.vals = []literal{{kind: litString, str: p.tok.val, pat: p.tok.pat}}
		if err := p.advance(); err != nil {
			return nil, err
		}
	case tokNot, tokIn:
		c.op = opIn
		if opTok.kind == tokNot {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind == tokLike {
				return nil, newSyntaxError(opTok.col, "write NOT %s LIKE '…' (NOT goes before the field)", c.field)
			}
			if p.tok.kind != tokIn {
				return nil, newSyntaxError(p.tok.col, "expected IN after NOT, found %s", p.tok.describe())
			}
			c.op = opNotIn
		}
		inTok := p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		vals, err := p.list(inTok)
		if err != nil {
			return nil, err
		}
		c.vals = vals
	case tokIs:
		if err := p.advance(); err != nil {
			return nil, err
		}
		c.op = opIsNull
		if p.tok.kind == tokNot {
			c.op = opIsNotNull
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if p.tok.kind != tokNull {
			return nil, newSyntaxError(p.tok.col, "expected NULL after IS, found %s", p.tok.describe())
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	case tokEOF:
		return nil, newSyntaxError(opTok.col, "expected an operator (=, !=, <, <=, >, >=, LIKE, IN, IS NULL) after %s, found the end of the expression", c.field)
	default:
		return nil, newSyntaxError(opTok.col, "expected an operator (=, !=, <, <=, >, >=, LIKE, IN, IS NULL) after %s, found %s", c.field, opTok.describe())
	}
	return c, nil
}

// list := '(' value { ',' value } ')'
func (p *parser) list(in token) ([]literal, error) {
	if p.tok.kind != tokLParen {
		return nil, newSyntaxError(p.tok.col, "expected '(' after %s, found %s", strings.ToUpper(in.text), p.tok.describe())
	}
	var vals []literal
	for {
		sep := p.tok
		if err := p.advance(); err != nil {
			return nil, err
		}
		v, err := p.value(sep)
		if err != nil {
			return nil, err
		}
		if v.kind == litNull {
			return nil, newSyntaxError(sep.col+1, "null cannot be in an IN list (use IS NULL)")
		}
		vals = append(vals, v)
		switch p.tok.kind {
		case tokComma:
			continue
		case tokRParen:
			return vals, p.advance()
		}
		return nil, newSyntaxError(p.tok.col, "expected ',' or ')' in the IN list, found %s", p.tok.describe())
	}
}

// value reads one literal; after is the token before it, for the message.
func (p *parser) value(after token) (literal, error) {
	t := p.tok
	var v literal
	switch t.kind {
	case tokString:
		v = literal{kind: litString, str: t.val, pat: t.pat}
	case tokNumber:
		n, ok := new(big.Rat).SetString(strings.TrimPrefix(t.text, "+"))
		if !ok {
			return v, newSyntaxError(t.col, "%q is not a number", t.text)
		}
		v = literal{kind: litNumber, text: t.text, num: n}
	case tokTrue, tokFalse:
		v = literal{kind: litBool, b: t.kind == tokTrue}
	case tokNull:
		v = literal{kind: litNull}
	case tokDate:
		d, err := time.Parse(time.DateOnly, t.text)
		if err != nil {
			return v, newSyntaxError(t.col, "%q is not a valid date", t.text)
		}
		v = literal{kind: litDate, text: t.text, t: d}
	case tokDateTime:
		d, err := parseDateTimeLiteral(t.text)
		if err != nil {
			return v, newSyntaxError(t.col, "%q is not a valid datetime", t.text)
		}
		v = literal{kind: litDateTime, text: t.text, t: d}
	case tokIdent:
		return v, newSyntaxError(t.col, "expected a value after '%s', found the name %s (put text in single quotes: '%s')", after.text, t.text, t.text)
	case tokEOF:
		return v, newSyntaxError(t.col, "expected a value after '%s'", after.text)
	default:
		return v, newSyntaxError(t.col, "expected a value after '%s', found %s", after.text, t.describe())
	}
	return v, p.advance()
}

// Datetime literal forms, as SOQL writes them.
var dateTimeLayouts = []string{"2006-01-02T15:04:05Z", "2006-01-02T15:04:05-07:00"}

func parseDateTimeLiteral(s string) (time.Time, error) {
	var err error
	for _, layout := range dateTimeLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func isDateTime(s string) bool {
	_, err := parseDateTimeLiteral(s)
	return err == nil
}

// Fields lists the names of the fields e reads, each once (compared
// case-insensitively, in the spelling of its first use), in order of first
// use. The engine reads at least these fields before calling Eval.
func (e *Expr) Fields() []string {
	seen := map[string]bool{}
	var out []string
	walk(e.root, func(c *clause) {
		k := strings.ToLower(c.field)
		if !seen[k] {
			seen[k] = true
			out = append(out, c.field)
		}
	})
	return out
}

// walk calls f on every clause of n, left to right.
func walk(n node, f func(*clause)) {
	switch n := n.(type) {
	case *logic:
		for _, a := range n.args {
			walk(a, f)
		}
	case *negation:
		walk(n.x, f)
	case *clause:
		f(n)
	}
}

// String renders e canonically: keywords in upper case, true, false and
// null in lower case, single spaces, strings with SOQL escapes, and only
// the parentheses precedence needs. Parse(e.String()) gives an equal
// expression, and rendering that again gives the same text.
func (e *Expr) String() string {
	var b strings.Builder
	render(&b, e.root)
	return b.String()
}

func render(b *strings.Builder, n node) {
	switch n := n.(type) {
	case *logic:
		sep := " AND "
		if n.or {
			sep = " OR "
		}
		for i, a := range n.args {
			if i > 0 {
				b.WriteString(sep)
			}
			// An OR inside an AND needs parentheses; nothing else does
			// (operands of the same kind were flattened).
			paren := !n.or && isLogic(a)
			if paren {
				b.WriteByte('(')
			}
			render(b, a)
			if paren {
				b.WriteByte(')')
			}
		}
	case *negation:
		b.WriteString("NOT ")
		paren := isLogic(n.x)
		if paren {
			b.WriteByte('(')
		}
		render(b, n.x)
		if paren {
			b.WriteByte(')')
		}
	case *clause:
		b.WriteString(n.clauseString())
	}
}

func isLogic(n node) bool { _, ok := n.(*logic); return ok }

// clauseString renders one clause canonically; it also names the clause in
// messages.
func (c *clause) clauseString() string {
	switch c.op {
	case opIsNull, opIsNotNull:
		return c.field + " " + c.op
	case opIn, opNotIn:
		parts := make([]string, len(c.vals))
		for i, v := range c.vals {
			parts[i] = v.String()
		}
		return c.field + " " + c.op + " (" + strings.Join(parts, ", ") + ")"
	case opLike:
		return c.field + " LIKE " + quote(c.vals[0].pat, true)
	}
	return c.field + " " + c.op + " " + c.vals[0].String()
}

// String renders a literal as the expression writes it.
func (v literal) String() string {
	switch v.kind {
	case litString:
		return quote(v.str, false)
	case litBool:
		if v.b {
			return "true"
		}
		return "false"
	case litNull:
		return "null"
	}
	return v.text
}

// quote writes s as a single-quoted SOQL string. When pattern is true, s is
// in LIKE pattern form and its backslash escapes are kept as they are;
// otherwise a backslash is escaped.
func quote(s string, pattern bool) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'':
			b.WriteString(`\'`)
		case '\\':
			if pattern {
				b.WriteByte('\\')
			} else {
				b.WriteString(`\\`)
			}
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// MarshalText renders e canonically, so an Expr in a settings struct is
// stored as its text in JSON and YAML.
func (e *Expr) MarshalText() ([]byte, error) {
	return []byte(e.String()), nil
}

// UnmarshalText parses text into e; a syntax error is a *SyntaxError, so
// loading settings refuses a bad expression.
func (e *Expr) UnmarshalText(text []byte) error {
	parsed, err := Parse(string(text))
	if err != nil {
		return err
	}
	*e = *parsed
	return nil
}
