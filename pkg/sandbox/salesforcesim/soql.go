package salesforcesim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

// The simulator understands a SOQL subset:
//
//	SELECT field, Rel.Field, … FROM Object
//	  [WHERE expr] [ORDER BY field [ASC|DESC] {, field [ASC|DESC]}] [LIMIT n]
//
// where expr combines conds with AND, OR and parentheses (AND binds
// tighter than OR), and cond is field op value (op: = != < > <= >= LIKE)
// or field [NOT] IN (values), values being 'strings', numbers,
// true/false, null, dates and date-times. Nulls sort first.

type soqlQuery struct {
	fields  []string
	object  string
	where   *expr // nil = every record
	orderBy []orderKey
	limit   int
}

type orderKey struct {
	field string
	desc  bool
}

// expr is a WHERE expression: a cond, or an AND / OR of exprs.
type expr struct {
	op    string // "cond", "AND", "OR"
	cond  cond
	terms []expr
}

// eval evaluates e with match deciding each cond.
func (e expr) eval(match func(cond) (bool, error)) (bool, error) {
	switch e.op {
	case "cond":
		return match(e.cond)
	case "AND":
		for _, t := range e.terms {
			if ok, err := t.eval(match); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	for _, t := range e.terms {
		if ok, err := t.eval(match); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

type cond struct {
	field  string
	op     string
	values []any
}

type cursor struct {
	ids   []string
	query *soqlQuery
	user  string
	batch int // records per page
}

func tokenize(q string) ([]string, error) {
	var toks []string
	for i := 0; i < len(q); {
		c := rune(q[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(q) && q[j] != '\''; j++ {
				if q[j] == '\\' && j+1 < len(q) {
					j++
					switch q[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(q[j])
					}
					continue
				}
				b.WriteByte(q[j])
			}
			if j >= len(q) {
				return nil, fmt.Errorf("unterminated string")
			}
			toks = append(toks, "'"+b.String())
			i = j + 1
		case strings.ContainsRune("(),", c):
			toks = append(toks, string(c))
			i++
		case strings.ContainsRune("=<>!", c):
			j := i + 1
			for j < len(q) && strings.ContainsRune("=<>", rune(q[j])) {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		default:
			j := i
			for j < len(q) && !unicode.IsSpace(rune(q[j])) && !strings.ContainsRune("(),=<>!'", rune(q[j])) {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		}
	}
	return toks, nil
}

func parseSOQL(q string) (*soqlQuery, error) {
	toks, err := tokenize(q)
	if err != nil {
		return nil, err
	}
	pos := 0
	peek := func() string {
		if pos < len(toks) {
			return toks[pos]
		}
		return ""
	}
	next := func() string { t := peek(); pos++; return t }
	kw := func(w string) bool {
		if strings.EqualFold(peek(), w) {
			pos++
			return true
		}
		return false
	}
	if !kw("SELECT") {
		return nil, fmt.Errorf("expected SELECT")
	}
	sq := &soqlQuery{limit: -1}
	for {
		f := next()
		if f == "" || strings.EqualFold(f, "FROM") {
			return nil, fmt.Errorf("expected a field")
		}
		sq.fields = append(sq.fields, f)
		if peek() != "," {
			break
		}
		next()
	}
	if !kw("FROM") {
		return nil, fmt.Errorf("expected FROM")
	}
	sq.object = next()
	if kw("WHERE") {
		var parseOr func() (expr, error)
		parseCond := func() (expr, error) {
			if peek() == "(" {
				next()
				e, err := parseOr()
				if err != nil {
					return e, err
				}
				if next() != ")" {
					return e, fmt.Errorf("expected )")
				}
				return e, nil
			}
			c := cond{field: next()}
			switch op := next(); {
			case strings.EqualFold(op, "NOT") && kw("IN"):
				c.op = "NOT IN"
			case strings.EqualFold(op, "IN"):
				c.op = "IN"
			case op == "=" || op == "!=" || op == "<>" || op == "<" || op == ">" || op == "<=" || op == ">=" || strings.EqualFold(op, "LIKE"):
				c.op = strings.ToUpper(op)
			default:
				return expr{}, fmt.Errorf("unexpected operator %q", op)
			}
			if c.op == "IN" || c.op == "NOT IN" {
				if next() != "(" {
					return expr{}, fmt.Errorf("expected ( after IN")
				}
				for {
					v, err := literal(next())
					if err != nil {
						return expr{}, err
					}
					c.values = append(c.values, v)
					if t := next(); t == ")" {
						break
					} else if t != "," {
						return expr{}, fmt.Errorf("expected , or )")
					}
				}
			} else {
				v, err := literal(next())
				if err != nil {
					return expr{}, err
				}
				c.values = []any{v}
			}
			return expr{op: "cond", cond: c}, nil
		}
		parseAnd := func() (expr, error) {
			e := expr{op: "AND"}
			for {
				t, err := parseCond()
				if err != nil {
					return e, err
				}
				e.terms = append(e.terms, t)
				if !kw("AND") {
					return e, nil
				}
			}
		}
		parseOr = func() (expr, error) {
			e := expr{op: "OR"}
			for {
				t, err := parseAnd()
				if err != nil {
					return e, err
				}
				e.terms = append(e.terms, t)
				if !kw("OR") {
					return e, nil
				}
			}
		}
		w, err := parseOr()
		if err != nil {
			return nil, err
		}
		sq.where = &w
	}
	if kw("ORDER") {
		if !kw("BY") {
			return nil, fmt.Errorf("expected BY")
		}
		for {
			k := orderKey{field: next()}
			if kw("DESC") {
				k.desc = true
			} else {
				kw("ASC")
			}
			sq.orderBy = append(sq.orderBy, k)
			if peek() != "," {
				break
			}
			next()
		}
	}
	if kw("LIMIT") {
		n, err := strconv.Atoi(next())
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad LIMIT")
		}
		sq.limit = n
	}
	if pos != len(toks) {
		return nil, fmt.Errorf("unexpected token %q", peek())
	}
	return sq, nil
}

// literal returns a value: string, float64, bool or nil. Dates and
// date-times stay strings, compared as text (their formats sort).
func literal(t string) (any, error) {
	switch {
	case strings.HasPrefix(t, "'"):
		return t[1:], nil
	case strings.EqualFold(t, "null"):
		return nil, nil
	case strings.EqualFold(t, "true"):
		return true, nil
	case strings.EqualFold(t, "false"):
		return false, nil
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return f, nil
	}
	if ts, err := salesforce.ParseTime(t); err == nil {
		return formatTime(ts), nil
	}
	if len(t) == 10 && t[4] == '-' && t[7] == '-' {
		return t, nil
	}
	return nil, fmt.Errorf("bad value %q", t)
}

func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		if strings.Contains(x, "T") && strings.Contains(y, "T") {
			tx, e1 := salesforce.ParseTime(x)
			ty, e2 := salesforce.ParseTime(y)
			if e1 == nil && e2 == nil {
				// Salesforce ignores milliseconds when it compares or
				// orders date-times (its values are kept to the second).
				return tx.Truncate(time.Second).Compare(ty.Truncate(time.Second)), true
			}
		}
		return compareFold(x, y), true
	case bool:
		y, ok := b.(bool)
		if !ok || x != y {
			return 1, ok
		}
		return 0, true
	}
	return 0, false
}

// compareFold compares as strings.Compare of the lower-cased strings
// does, without allocating for ASCII (SOQL's comparisons ignore case).
func compareFold(x, y string) int {
	for i := 0; i < len(x) && i < len(y); i++ {
		a, b := x[i], y[i]
		if a >= 0x80 || b >= 0x80 {
			return strings.Compare(strings.ToLower(x[i:]), strings.ToLower(y[i:]))
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(x) < len(y):
		return -1
	case len(x) > len(y):
		return 1
	}
	return 0
}

func (c cond) match(v any) bool {
	switch c.op {
	case "IN", "NOT IN":
		in := false
		for _, w := range c.values {
			if r, ok := compare(v, w); ok && r == 0 || v == nil && w == nil {
				in = true
			}
		}
		return in == (c.op == "IN")
	case "LIKE":
		s, ok1 := v.(string)
		p, ok2 := c.values[0].(string)
		return ok1 && ok2 && like(strings.ToLower(s), strings.ToLower(p))
	}
	w := c.values[0]
	if v == nil || w == nil {
		eq := v == nil && w == nil
		return (c.op == "=" && eq) || ((c.op == "!=" || c.op == "<>") && !eq)
	}
	r, ok := compare(v, w)
	if !ok {
		return false
	}
	switch c.op {
	case "=":
		return r == 0
	case "!=", "<>":
		return r != 0
	case "<":
		return r < 0
	case ">":
		return r > 0
	case "<=":
		return r <= 0
	case ">=":
		return r >= 0
	}
	return false
}

// like matches SQL LIKE with % and _.
func like(s, p string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if like(s[i:], p[1:]) {
				return true
			}
		}
		return false
	case '_':
		return s != "" && like(s[1:], p[1:])
	}
	return s != "" && s[0] == p[0] && like(s[1:], p[1:])
}

// value returns a record's field value, following one relationship
// (Account.Name through AccountId).
func (o *Org) value(r *record, field, user string) (any, bool) {
	if rel, name, ok := strings.Cut(field, "."); ok {
		ref, ok := r.obj.Field(rel + "Id")
		if !ok || ref.Type != TypeReference {
			return nil, false
		}
		id, _ := r.fields[rel+"Id"].(string)
		target, found := o.lookup(id)
		if !found || target.deleted || o.access(user, target) == NoAccess {
			return nil, true
		}
		if _, ok := target.obj.Field(name); !ok {
			return nil, false
		}
		return target.fields[name], true
	}
	if _, ok := r.obj.Field(field); !ok {
		return nil, false
	}
	return r.fields[field], true
}

// canonicalize rewrites the query's field names to the schema's spelling:
// SOQL names are case-insensitive ("select id from contact"), and answers
// name fields as the schema does. Unknown names stay as written (the
// query then refuses them with INVALID_FIELD).
func (o *Org) canonicalize(obj *Object, q *soqlQuery) {
	name := func(field string) string {
		if rel, sub, ok := strings.Cut(field, "."); ok {
			ref, ok := obj.Field(rel + "Id")
			if !ok {
				return field
			}
			rel = strings.TrimSuffix(ref.Name, "Id")
			if target, ok := o.schema[ref.ReferenceTo]; ok {
				if f, ok := target.Field(sub); ok {
					sub = f.Name
				}
			}
			return rel + "." + sub
		}
		if f, ok := obj.Field(field); ok {
			return f.Name
		}
		return field
	}
	for i, f := range q.fields {
		q.fields[i] = name(f)
	}
	for i := range q.orderBy {
		q.orderBy[i].field = name(q.orderBy[i].field)
	}
	var walk func(e *expr)
	walk = func(e *expr) {
		if e == nil {
			return
		}
		if e.op == "cond" {
			e.cond.field = name(e.cond.field)
		}
		for i := range e.terms {
			walk(&e.terms[i])
		}
	}
	walk(q.where)
}

// objectNamed finds an sObject type by name, case-insensitively as the
// API does.
func (o *Org) objectNamed(name string) (*Object, bool) {
	if obj, ok := o.schema[name]; ok {
		return obj, true
	}
	for k, obj := range o.schema {
		if strings.EqualFold(k, name) {
			return obj, true
		}
	}
	return nil, false
}

// query runs a SOQL query as user; all (queryAll) includes deleted
// records, which carry IsDeleted true (and MasterRecordId after a merge).
func (o *Org) query(q, user string, all bool, batchSize int) (int, any) {
	sq, err := parseSOQL(q)
	if err != nil {
		return fail(errf(400, "MALFORMED_QUERY", nil, "%v", err))
	}
	obj, ok := o.objectNamed(sq.object)
	if !ok {
		return fail(errf(400, "INVALID_TYPE", nil, "sObject type '%s' is not supported.", sq.object))
	}
	o.canonicalize(obj, sq)
	probe := &record{obj: obj, fields: map[string]any{}}
	fields := append([]string{}, sq.fields...)
	for _, k := range sq.orderBy {
		fields = append(fields, k.field)
	}
	for _, f := range fields {
		if _, ok := o.value(probe, f, user); !ok {
			return fail(errf(400, "INVALID_FIELD", nil, "No such column '%s' on entity '%s'", f, obj.Name))
		}
	}
	var matched []*record
	for _, r := range o.records {
		if r.obj != obj || r.deleted && !all || o.access(user, r) == NoAccess {
			continue
		}
		if sq.where == nil {
			matched = append(matched, r)
			continue
		}
		var bad string
		ok, _ := sq.where.eval(func(c cond) (bool, error) {
			v, ok := o.value(r, c.field, user)
			if !ok {
				bad = c.field
				return false, fmt.Errorf("no field %s", c.field)
			}
			return c.match(v), nil
		})
		if bad != "" {
			return fail(errf(400, "INVALID_FIELD", nil, "No such column '%s' on entity '%s'", bad, obj.Name))
		}
		if ok {
			matched = append(matched, r)
		}
	}
	sortedIDs(matched)
	if len(sq.orderBy) > 0 {
		sort.SliceStable(matched, func(i, j int) bool {
			for _, k := range sq.orderBy {
				a, _ := o.value(matched[i], k.field, user)
				b, _ := o.value(matched[j], k.field, user)
				r, ok := compare(a, b)
				if !ok {
					if (a == nil) == (b == nil) {
						continue
					}
					return a == nil // nulls first
				}
				if r == 0 {
					continue
				}
				if k.desc {
					return r > 0
				}
				return r < 0
			}
			return false
		})
	}
	if sq.limit >= 0 && len(matched) > sq.limit {
		matched = matched[:sq.limit]
	}
	ids := make([]string, len(matched))
	for i, r := range matched {
		ids[i] = r.id()
	}
	cur := &cursor{ids: ids, query: sq, user: user, batch: o.cfg.QueryBatchSize}
	if batchSize > 0 {
		cur.batch = min(batchSize, cur.batch)
	}
	return http.StatusOK, o.page(cur, 0)
}

// page returns the query answer from offset, registering a cursor for
// the rest.
func (o *Org) page(cur *cursor, offset int) map[string]any {
	end := min(offset+cur.batch, len(cur.ids))
	records := make([]any, 0, end-offset)
	for _, id := range cur.ids[offset:end] {
		r := o.records[id]
		out := map[string]any{"attributes": attributes(r)}
		for _, f := range cur.query.fields {
			if rel, name, ok := strings.Cut(f, "."); ok {
				id, _ := r.fields[rel+"Id"].(string)
				target, found := o.lookup(id)
				if !found || target.deleted || o.access(cur.user, target) == NoAccess {
					out[rel] = nil
					continue
				}
				m, _ := out[rel].(map[string]any)
				if m == nil {
					m = map[string]any{"attributes": attributes(target)}
					out[rel] = m
				}
				m[name] = target.fields[name]
				continue
			}
			out[f] = r.fields[f]
		}
		records = append(records, out)
	}
	res := map[string]any{"totalSize": len(cur.ids), "done": end == len(cur.ids), "records": records}
	if end < len(cur.ids) {
		locator := fmt.Sprintf("01g5e%013d", len(o.cursors)+1)
		o.cursors[locator] = cur
		res["nextRecordsUrl"] = fmt.Sprintf("%squery/%s-%d", dataRoot, locator, end)
	}
	return res
}

func (o *Org) queryMore(locatorOffset, user string) (int, any) {
	locator, off, ok := strings.Cut(locatorOffset, "-")
	cur, found := o.cursors[locator]
	offset, err := strconv.Atoi(off)
	if !ok || !found || err != nil || offset < 0 || offset > len(cur.ids) || cur.user != user {
		return fail(errf(400, "INVALID_QUERY_LOCATOR", nil, "invalid query locator"))
	}
	return http.StatusOK, o.page(cur, offset)
}
