// Package securityhub delivers Falco alerts to AWS Security Hub as
// findings in the AWS Security Finding Format (ASFF), with
// BatchImportFindings, through the account's default product: security
// teams triage them beside GuardDuty's and Inspector's. Each finding's Id
// is the alert's stable id, so a finding sent again updates itself instead
// of appearing twice. Calls are paced under Security Hub's rate limit;
// findings the answer reports as failed are resent exactly, and those that
// can never pass are named.
package securityhub

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/batch"
	"github.com/falcocw/falcocw/falcocw/dest"
)

// BatchImportFindings limits, from the Security Hub API reference: at
// most 100 findings and 6 MB per call, 240 KB per finding; 10 calls per
// second per account and region, bursts of 30.
const (
	MaxBatchFindings = 100
	MaxBatchBytes    = 6 * 1000 * 1000
	MaxFindingBytes  = 240 * 1000
	CallsPerSecond   = 10
	CallBurst        = 30
)

// IAMActions are the IAM actions this package calls. sts:GetCallerIdentity
// needs no permission; it is called once when securityhub_account_id is
// not set.
var IAMActions = []string{"securityhub:BatchImportFindings"}

// Finding is one ASFF finding, written but for the account ID, which
// joins its parts (the account is known only at the first call, from
// STS). ID is the caller's, reported back by PutBatch; FindingID is the
// ASFF Id.
type Finding struct {
	ID        int
	FindingID string
	parts     [][]byte
}

// accountLen is the length of an AWS account ID.
const accountLen = 12

// Size is the finding's length in the request.
func (f Finding) Size() int {
	n := accountLen * (len(f.parts) - 1)
	for _, p := range f.parts {
		n += len(p)
	}
	return n
}

// appendTo appends the finding with the account ID filled in.
func (f Finding) appendTo(b []byte, account string) []byte {
	for i, p := range f.parts {
		if i > 0 {
			b = append(b, account...)
		}
		b = append(b, p...)
	}
	return b
}

// Batches cuts findings into batches within BatchImportFindings' limits
// (the request's own bytes included).
func Batches(findings []Finding) [][]Finding {
	return batch.Cut(findings, MaxBatchFindings, MaxBatchBytes-64, func(f Finding) int { return f.Size() + 1 }, nil)
}

// AppendBody appends the JSON body of BatchImportFindings.
func AppendBody(b []byte, account string, findings []Finding) []byte {
	b = append(b, `{"Findings":[`...)
	for i, f := range findings {
		if i > 0 {
			b = append(b, ',')
		}
		b = f.appendTo(b, account)
	}
	return append(b, "]}"...)
}

// Sink imports findings. It is safe for concurrent use.
type Sink struct {
	dest.KeepsNothing
	client *securityhub.Client
	sts    *sts.Client
	opts   Options
	pace   *pacer
	joins  joins

	mu      sync.Mutex
	account string
}

// New returns a sink importing through client; stsClient finds the
// account when o.AccountID is empty.
func New(client *securityhub.Client, stsClient *sts.Client, o Options) *Sink {
	if o.Severity == nil {
		o.Severity = DefaultSeverity()
	}
	return &Sink{client: client, sts: stsClient, opts: o, account: o.AccountID, pace: newPacer(CallsPerSecond, CallBurst)}
}

// Account returns the account ID findings are imported into: the
// configured one, else the credentials' (STS GetCallerIdentity, asked
// once and remembered; a failure is asked again at the next call).
func (s *Sink) Account(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.account != "" {
		return s.account, nil
	}
	out, err := s.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("finding the account ID for Security Hub (STS GetCallerIdentity; or set securityhub_account_id): %w", err)
	}
	a := aws.ToString(out.Account)
	if len(a) != accountLen {
		return "", fmt.Errorf("STS GetCallerIdentity gave account %q: want 12 digits (set securityhub_account_id)", a)
	}
	s.account = a
	return a, nil
}

// retryable are the per-finding error codes a later call may cure; any
// other code (the finding's content is invalid) never passes.
func retryable(code string) bool {
	for _, w := range []string{"Throttl", "TooManyRequests", "LimitExceeded", "Internal", "ServiceUnavailable", "AccessDenied"} {
		if strings.Contains(code, w) {
			return true
		}
	}
	return false
}

// putBatch imports one batch (as Batches cut it) in one call and the calls
// that resend what it fails. Findings the answer lists in FailedFindings
// are sent again, with backoff and jitter, until all are imported or the
// flush deadline passes; those refused for good are returned as rejected.
func (s *Sink) putBatch(ctx context.Context, findings []Finding) (accepted []int, rejected []awsclient.Rejected, err error) {
	account, err := s.Account(ctx)
	if err != nil {
		return nil, nil, err
	}
	calls := 0
	return awsclient.Resend(ctx, findings, func(f Finding) int { return f.ID }, "findings", func(code string) bool { return !retryable(code) },
		func(pending []Finding) (map[int]awsclient.EntryError, error) {
			if calls++; calls > 1 { // a resend; the first call's turn was waited for by put
				if err := s.pace.wait(ctx); err != nil {
					return nil, err
				}
			}
			// A minimal input for the SDK; the findings go in a body
			// written here at once (see awsclient.WithBody).
			in := &securityhub.BatchImportFindingsInput{Findings: []types.AwsSecurityFinding{}}
			size := 32
			for _, f := range pending {
				size += f.Size() + 1
			}
			out, err := awsclient.CallWithBody(size, func(b []byte) []byte { return AppendBody(b, account, pending) },
				func(withBody func(*middleware.Stack) error) (*securityhub.BatchImportFindingsOutput, error) {
					return s.client.BatchImportFindings(ctx, in, func(o *securityhub.Options) { o.APIOptions = append(o.APIOptions, withBody) })
				})
			if err != nil || aws.ToInt32(out.FailedCount) == 0 && len(out.FailedFindings) == 0 {
				return nil, err
			}
			at := make(map[string]int, len(pending))
			for i, f := range pending {
				at[f.FindingID] = i
			}
			failed := map[int]awsclient.EntryError{}
			for _, ff := range out.FailedFindings {
				if i, ok := at[aws.ToString(ff.Id)]; ok {
					failed[i] = awsclient.EntryError{Code: aws.ToString(ff.ErrorCode), Message: aws.ToString(ff.ErrorMessage)}
				}
			}
			if n := int(aws.ToInt32(out.FailedCount)); n > len(failed) {
				// Counted but not named: send again every finding not
				// named. A finding imported twice is updated, not doubled
				// (same Id), so this costs a call, never a duplicate.
				for i := range pending {
					if _, ok := failed[i]; !ok {
						failed[i] = awsclient.EntryError{Code: "Unnamed", Message: fmt.Sprintf("%d findings failed, %d named", n, len(out.FailedFindings))}
					}
				}
			}
			return failed, nil
		})
}
