package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// RedactedText is the text put in place of secrets.
const RedactedText = "REDACTED"

// Redacted returns a copy fit for printing: the password of the database
// URL and credentials of the webhook URL are replaced by "REDACTED".
// Secret files are shown by path only; their contents are never read here.
func (c *Config) Redacted() Config {
	r := *c
	r.Network.Trackers = append([]string(nil), c.Network.Trackers...)
	r.Verify.Schedules = append([]string(nil), c.Verify.Schedules...)
	r.Database.URL = redactURL(c.Database.URL)
	r.Verify.WebhookURL = redactURL(c.Verify.WebhookURL)
	return r
}

var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactURL hides the password of a URL or of a key=value connection string.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	if !strings.Contains(raw, "://") {
		return dsnPassword.ReplaceAllString(raw, "${1}"+RedactedText)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return RedactedText
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), RedactedText)
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", RedactedText)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// DatabaseURL returns the database URL with the password read from
// PasswordFile (trailing newline dropped) injected; "" means embedded.
func (c *Config) DatabaseURL() (string, error) {
	d := c.Database
	if d.URL == "" || d.PasswordFile == "" {
		return d.URL, nil
	}
	raw, err := os.ReadFile(d.PasswordFile)
	if err != nil {
		return "", errorf("database.password_file: read %s: %v", d.PasswordFile, unwrapPathErr(err))
	}
	pw := strings.TrimRight(string(raw), "\r\n")
	if pw == "" {
		return "", errorf("database.password_file: %s is empty", d.PasswordFile)
	}
	if !strings.Contains(d.URL, "://") {
		esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
		return fmt.Sprintf("%s password='%s'", d.URL, esc), nil
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return "", errorf("database.url: not a valid URL")
	}
	user := "archivd"
	if u.User != nil {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, pw)
	return u.String(), nil
}
