package geo

import (
	"strings"
	"unicode"
)

// foldPairs lists Latin letters with diacritics (and ligatures) with the
// ASCII letters they fold to, so that "Côte d'Ivoire", "Cote d'Ivoire" and
// "COTE D’IVOIRE" are the same key. It covers every letter in the embedded
// ISO data (a test checks that); combining marks are dropped separately.
var foldPairs = []string{
	"ÀÁÂÃÄÅĀĂĄǍȀȂẠẢẤẦẨẪẬẮẰẲẴẶ", "a",
	"ÇĆĈĊČ", "c", "ĎĐÐḌḐ", "d",
	"ÈÉÊËĒĔĖĘĚȄȆẸẺẼẾỀỂỄỆƏƎ", "e",
	"ĜĞĠĢǦ", "g", "ĤĦḤḨ", "h",
	"ÌÍÎÏĨĪĬĮİǏȈȊỈỊ", "i", "Ĵ", "j", "ĶǨ", "k", "ĹĻĽĿŁ", "l",
	"ÑŃŅŇ", "n",
	"ÒÓÔÕÖØŌŎŐƠǑȌȎỌỎỐỒỔỖỘỚỜỞỠỢ", "o",
	"ŔŖŘṘṞ", "r", "ŚŜŞŠȘṢ", "s", "ŢŤŦȚṬ", "t",
	"ÙÚÛÜŨŪŬŮŰŲƯǓǕǗǙǛỤỦỨỪỬỮỰ", "u",
	"ÝŸŶỲỸ", "y", "ŹŻŽẒẔ", "z",
	"Æ", "ae", "Œ", "oe", "Þ", "th", "ß", "ss", "Ŋ", "ng",
}

var folds = func() map[rune]string {
	m := map[rune]string{}
	for i := 0; i < len(foldPairs); i += 2 {
		for _, r := range foldPairs[i] {
			m[r] = foldPairs[i+1]
			m[unicode.ToLower(r)] = foldPairs[i+1]
		}
	}
	m['ı'] = "i" // dotless i has no upper-case pair of its own
	return m
}()

// key normalises a name for matching: diacritics folded, lower case,
// dots and apostrophes removed ("U.S.A." is "usa", "d'Ivoire" is
// "divoire"), "&" read as "and", every other run of punctuation, symbols
// or spaces one space.
func key(s string) string {
	var b strings.Builder
	space := false
	put := func(str string) {
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString(str)
	}
	for _, r := range s {
		switch {
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			put(string(r))
		case r >= 'A' && r <= 'Z':
			put(string(r + 'a' - 'A'))
		case r == '.' || r == '\'' || r == '’' || r == '‘' || r == 'ʻ' || r == 'ʼ' || r == '`':
			// Dropped without a space.
		case r == '&':
			space = true
			put("and")
			space = true
		case unicode.Is(unicode.Mn, r):
			// Combining marks (a decomposed "é") go.
		case folds[r] != "":
			put(folds[r])
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			put(string(unicode.ToLower(r)))
		default:
			space = true
		}
	}
	return b.String()
}

// names lists the forms an ISO name gives: "Illes Balears [Islas
// Baleares]" is both "Illes Balears" and "Islas Baleares"; an inverted
// name, "Korea, Republic of", is also read in order, "Republic of Korea".
func names(s string) []string {
	var out []string
	main, alt, hasAlt := strings.Cut(s, "[")
	forms := []string{main}
	if hasAlt {
		forms = append(forms, strings.TrimSuffix(strings.TrimSpace(alt), "]"))
	}
	for _, f := range forms {
		f = strings.TrimSpace(f)
		out = append(out, f)
		if head, tail, ok := strings.Cut(f, ", "); ok && !strings.Contains(tail, ",") {
			out = append(out, tail+" "+head)
		}
	}
	return out
}
