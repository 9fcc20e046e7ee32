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
	r.Database.SessionURL = redactURL(c.Database.SessionURL)
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
	return c.withPassword("database.url", c.Database.URL)
}

// SessionURL returns database.session_url with the password injected as
// for DatabaseURL; "" means the session connection uses DatabaseURL.
func (c *Config) SessionURL() (string, error) {
	return c.withPassword("database.session_url", c.Database.SessionURL)
}

func (c *Config) withPassword(key, raw string) (string, error) {
	d := c.Database
	if raw == "" || d.PasswordFile == "" {
		return raw, nil
	}
	pwRaw, err := os.ReadFile(d.PasswordFile)
	if err != nil {
		return "", errorf("database.password_file: read %s: %v", d.PasswordFile, unwrapPathErr(err))
	}
	pw := strings.TrimRight(string(pwRaw), "\r\n")
	if pw == "" {
		return "", errorf("database.password_file: %s is empty", d.PasswordFile)
	}
	if !strings.Contains(raw, "://") {
		esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
		return fmt.Sprintf("%s password='%s'", raw, esc), nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errorf("%s: not a valid URL", key)
	}
	user := "archivd"
	if u.User != nil {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, pw)
	return u.String(), nil
}
