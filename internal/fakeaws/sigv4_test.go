package fakeaws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var testCreds = aws.Credentials{AccessKeyID: "AKIDSIGV4TEST", SecretAccessKey: "sigv4/test+secret", SessionToken: "a-session-token"}

// signed is a request to srv signed by the SDK's own signer.
func signed(t *testing.T, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/?b=2&a=1", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328.DescribeLogGroups")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, req, hex.EncodeToString(sum[:]), "logs", "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestVerifySignatures: the server accepts what the SDK signs, and refuses
// a request whose body, signed header or secret differs.
func TestVerifySignatures(t *testing.T) {
	srv := New()
	defer srv.Close()
	srv.VerifySignatures(testCreds.AccessKeyID, testCreds.SecretAccessKey)
	body := []byte(`{}`)
	for _, tc := range []struct {
		name    string
		tamper  func(*http.Request)
		refused bool
	}{
		{"as signed", func(*http.Request) {}, false},
		{"body changed after signing", func(r *http.Request) {
			r.Body, r.ContentLength = http.NoBody, 0
			r.Header.Set("Content-Length", "0")
		}, true},
		{"signed header changed", func(r *http.Request) { r.Header.Set("X-Amz-Target", "Logs_20140328.DeleteLogGroup") }, true},
		{"unsigned header changed", func(r *http.Request) { r.Header.Set("User-Agent", "other") }, false},
		{"another signature", func(r *http.Request) {
			auth := r.Header.Get("Authorization")
			last := "0"
			if auth[len(auth)-1] == '0' {
				last = "1"
			}
			r.Header.Set("Authorization", auth[:len(auth)-1]+last)
		}, true},
	} {
		req := signed(t, srv.URL, body)
		tc.tamper(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if refused := resp.StatusCode == http.StatusForbidden; refused != tc.refused {
			t.Errorf("%s: status %d, refused %v, want %v", tc.name, resp.StatusCode, refused, tc.refused)
		}
	}
	if srv.Verified() != 2 {
		t.Errorf("%d requests verified, want 2", srv.Verified())
	}
	// A key the server does not know is not checked.
	other := New()
	defer other.Close()
	req := signed(t, other.URL, body)
	req.Header.Set("X-Amz-Target", "Logs_20140328.DeleteLogGroup")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode == http.StatusForbidden {
		t.Errorf("unchecked request refused: %v %v", resp.StatusCode, err)
	}
}
