package backstage

// Byte-level matchers for the patterns the parser and the validator check on every scalar, key
// and name of a document. They were regular expressions; matching those took a tenth of an
// import's CPU. Each function here matches exactly the strings its pattern (quoted above it, and
// kept in match_test.go as the oracle) matches: the patterns are ASCII-only, so a byte outside
// ASCII, or one of an invalid UTF-8 sequence, fails them as it fails here.

func isDigit(c byte) bool         { return '0' <= c && c <= '9' }
func isLower(c byte) bool         { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool         { return isLower(c) || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool         { return isAlpha(c) || isDigit(c) }
func isLowerAlnum(c byte) bool    { return isLower(c) || isDigit(c) }
func isHex(c byte) bool           { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isTagChar(c byte) bool       { return isLowerAlnum(c) || c == ':' || c == '+' || c == '#' }
func isNameMiddle(c byte) bool    { return isAlnum(c) || c == '-' || c == '_' || c == '.' }
func isSimpleKeyChar(c byte) bool { return isAlnum(c) || c == '_' || c == '$' || c == '-' }

// all reports whether s is non-empty and every byte of it satisfies ok.
func all(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// isCoreNull is `^(?:~|[Nn]ull|NULL)?$`.
func isCoreNull(s string) bool {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return true
	}
	return false
}

// isCoreBool is `^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$`.
func isCoreBool(s string) bool {
	switch s {
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return true
	}
	return false
}

// isCoreInt is `^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$`.
func isCoreInt(s string) bool {
	if len(s) > 2 && s[0] == '0' && s[1] == 'o' {
		return all(s[2:], func(c byte) bool { return '0' <= c && c <= '7' })
	}
	if len(s) > 2 && s[0] == '0' && s[1] == 'x' {
		return all(s[2:], isHex)
	}
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	return all(s, isDigit)
}

// isCoreFloat is
// `^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$`.
func isCoreFloat(s string) bool {
	switch s {
	case ".nan", ".NaN", ".NAN":
		return true
	}
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	switch s {
	case ".inf", ".Inf", ".INF":
		return true
	}
	// Mantissa: \.[0-9]+ or [0-9]+(\.[0-9]*)?
	i := digits(s, 0)
	if i == 0 {
		if len(s) < 2 || s[0] != '.' {
			return false
		}
		if i = digits(s, 1); i == 1 {
			return false
		}
	} else if i < len(s) && s[i] == '.' {
		i = digits(s, i+1)
	}
	if i == len(s) {
		return true
	}
	// Exponent: [eE][-+]?[0-9]+
	if s[i] != 'e' && s[i] != 'E' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	j := digits(s, i)
	return j > i && j == len(s)
}

// digits returns the index of the first byte at or after i that is not a digit.
func digits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// isSimpleKey is `^[A-Za-z0-9_$-]+$`.
func isSimpleKey(s string) bool { return all(s, isSimpleKeyChar) }

// isObjectName is `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`.
func isObjectName(s string) bool {
	return s != "" && isAlnum(s[0]) && isAlnum(s[len(s)-1]) && all(s, isNameMiddle)
}

// isDNSLabel is `^[a-z0-9]+(?:-+[a-z0-9]+)*$`.
func isDNSLabel(s string) bool {
	return s != "" && isLowerAlnum(s[0]) && isLowerAlnum(s[len(s)-1]) &&
		all(s, func(c byte) bool { return isLowerAlnum(c) || c == '-' })
}

// isKind is `^[a-zA-Z][a-z0-9A-Z]*$`.
func isKind(s string) bool { return s != "" && isAlpha(s[0]) && all(s, isAlnum) }

// isAPIVersionSuffix is `^[a-z0-9A-Z]+$`.
func isAPIVersionSuffix(s string) bool { return all(s, isAlnum) }

// isTag is `^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`: runs of tag characters separated by single dashes.
func isTag(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			if s[i-1] == '-' {
				return false
			}
		} else if !isTagChar(c) {
			return false
		}
	}
	return true
}
