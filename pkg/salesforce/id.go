package salesforce

// ValidID reports whether id looks like a Salesforce id: 15 or 18
// alphanumeric characters.
func ValidID(id string) bool {
	if len(id) != 15 && len(id) != 18 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// ID15 returns the case-sensitive 15-character form of a 15- or
// 18-character id (other input is returned unchanged).
func ID15(id string) string {
	if len(id) == 18 {
		return id[:15]
	}
	return id
}

const id18Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// ID18 returns the 18-character form of a 15-character id: the three
// suffix characters encode which of the 15 are upper case, five at a time.
// Other input is returned unchanged.
func ID18(id string) string {
	if len(id) != 15 {
		return id
	}
	suffix := make([]byte, 3)
	for chunk := 0; chunk < 3; chunk++ {
		n := 0
		for i := 0; i < 5; i++ {
			if c := id[chunk*5+i]; 'A' <= c && c <= 'Z' {
				n |= 1 << i
			}
		}
		suffix[chunk] = id18Alphabet[n]
	}
	return id + string(suffix)
}

// SameID reports whether a and b are the same record id, in 15- or
// 18-character form.
func SameID(a, b string) bool {
	return ValidID(a) && ValidID(b) && ID15(a) == ID15(b)
}
