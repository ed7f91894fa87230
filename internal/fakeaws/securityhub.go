package fakeaws

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Security Hub's BatchImportFindings limits, from its API reference: 100
// findings and 6 MB per call, 240 KB per finding, 10 calls a second per
// account and region with bursts of 30.
const (
	SecurityHubMaxFindings = 100
	SecurityHubMaxBatch    = 6 * 1000 * 1000
	SecurityHubMaxFinding  = 240 * 1000
	SecurityHubRate        = 10
	SecurityHubBurst       = 30
)

// Account is the account the fake's credentials belong to
// (GetCallerIdentity), as moto's.
const Account = "123456789012"

// StoredFinding is a finding Security Hub holds, and how many imports
// wrote it (more than one: it was sent again, an update).
type StoredFinding struct {
	Finding map[string]any
	Imports int
}

// Findings returns the findings imported, by Id.
func (s *Server) Findings() map[string]StoredFinding {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]StoredFinding, len(s.findings))
	for k, v := range s.findings {
		out[k] = *v
	}
	return out
}

var (
	productARN = regexp.MustCompile(`^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(\d{12}):product/(\d{12})/default$`)
	asffType   = regexp.MustCompile(`^(Software and Configuration Checks|TTPs|Effects|Unusual Behaviors|Sensitive Data Identifications)(/[^/]+){0,2}$`)
	labels     = map[string]bool{"INFORMATIONAL": true, "LOW": true, "MEDIUM": true, "HIGH": true, "CRITICAL": true}
)

// checkFinding checks a finding against the ASFF rules falcocw's findings
// must follow: the required attributes, their forms and their lengths.
func checkFinding(f map[string]any, raw int) string {
	str := func(k string) string { v, _ := f[k].(string); return v }
	for _, k := range []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt", "Title", "Description"} {
		if str(k) == "" {
			return "lacks " + k
		}
	}
	switch {
	case raw > SecurityHubMaxFinding:
		return fmt.Sprintf("is %d bytes; the limit is %d", raw, SecurityHubMaxFinding)
	case str("SchemaVersion") != "2018-10-08":
		return "SchemaVersion " + str("SchemaVersion")
	case len(str("Id")) > 512, len(str("GeneratorId")) > 512, len([]rune(str("Title"))) > 256, len([]rune(str("Description"))) > 1024:
		return "Id, GeneratorId, Title or Description too long"
	}
	m := productARN.FindStringSubmatch(str("ProductArn"))
	if m == nil || m[1] != str("AwsAccountId") || m[2] != str("AwsAccountId") {
		return fmt.Sprintf("ProductArn %s is not the default product of account %s", str("ProductArn"), str("AwsAccountId"))
	}
	for _, k := range []string{"CreatedAt", "UpdatedAt"} {
		if _, err := time.Parse(time.RFC3339Nano, str(k)); err != nil {
			return k + ": " + err.Error()
		}
	}
	types, _ := f["Types"].([]any)
	if len(types) == 0 || len(types) > 50 {
		return fmt.Sprintf("%d Types; want 1 to 50", len(types))
	}
	for _, t := range types {
		if s, _ := t.(string); !asffType.MatchString(s) {
			return fmt.Sprintf("type %q is not namespace/category/classifier", t)
		}
	}
	sev, _ := f["Severity"].(map[string]any)
	if l, _ := sev["Label"].(string); !labels[l] {
		return fmt.Sprintf("Severity.Label %q", sev["Label"])
	}
	res, _ := f["Resources"].([]any)
	if len(res) == 0 || len(res) > 32 {
		return fmt.Sprintf("%d Resources; want 1 to 32", len(res))
	}
	for _, r := range res {
		rm, _ := r.(map[string]any)
		if t, _ := rm["Type"].(string); t == "" {
			return "a resource without Type"
		}
		if id, _ := rm["Id"].(string); id == "" || len(id) > 512 {
			return "a resource without Id or with one over 512 characters"
		}
		if d, ok := rm["Details"].(map[string]any); ok {
			for k, v := range d {
				if m, ok := v.(map[string]any); ok && len(m) == 0 {
					return "resource details " + k + " is an empty object"
				}
			}
		}
	}
	for k, limit := range map[string]int{"ProductFields": 2048, "UserDefinedFields": 1024} {
		fm, _ := f[k].(map[string]any)
		if len(fm) > 50 {
			return fmt.Sprintf("%s has %d entries; the limit is 50", k, len(fm))
		}
		for key, v := range fm {
			s, ok := v.(string)
			if !ok || s == "" || len([]rune(s)) > limit || len([]rune(key)) > 128 {
				return fmt.Sprintf("%s.%s: want a string of 1 to %d characters", k, key, limit)
			}
		}
	}
	return ""
}

// allowHub takes a token of Security Hub's rate (10 a second, bursts of
// 30, with a little slack for the clock); s.mu is held.
func (s *Server) allowHub(now time.Time) bool {
	if !s.hubLast.IsZero() {
		s.hubTokens = min(SecurityHubBurst, s.hubTokens+now.Sub(s.hubLast).Seconds()*SecurityHubRate)
	} else {
		s.hubTokens = SecurityHubBurst
	}
	s.hubLast = now
	if s.hubTokens < -0.5 {
		return false
	}
	s.hubTokens--
	return true
}

// batchImportFindings is POST /findings/import: limits and the rate
// enforced (a call over the rate is a violation, and answered 429),
// findings checked against ASFF, findings failed one by one at the
// RecordFailure rate (FailedFindings). An Id imported again updates its
// finding.
func (s *Server) batchImportFindings(body []byte) (any, *apiError) {
	const op = "BatchImportFindings"
	var in struct {
		Findings []json.RawMessage
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{400, "InvalidInputException", err.Error()}
	}
	s.mu.Lock()
	ok := s.quotas[op] != nil || s.allowHub(time.Now()) // a Quota set governs the rate instead
	s.mu.Unlock()
	if !ok {
		s.violation(op, "more than 10 calls a second (bursts of 30)")
		return nil, &apiError{429, "TooManyRequestsException", "Rate exceeded"}
	}
	if n := len(in.Findings); n == 0 || n > SecurityHubMaxFindings {
		return nil, s.violation(op, fmt.Sprintf("%d findings; want 1 to %d", n, SecurityHubMaxFindings))
	}
	if len(body) > SecurityHubMaxBatch {
		return nil, s.violation(op, fmt.Sprintf("request is %d bytes; the limit is %d", len(body), SecurityHubMaxBatch))
	}
	findings := make([]map[string]any, len(in.Findings))
	for i, raw := range in.Findings {
		if err := json.Unmarshal(raw, &findings[i]); err != nil {
			return nil, &apiError{400, "InvalidInputException", err.Error()}
		}
		if why := checkFinding(findings[i], len(raw)); why != "" {
			return nil, s.violation(op, fmt.Sprintf("finding %d %s", i, why))
		}
		if acct, _ := findings[i]["AwsAccountId"].(string); acct != Account {
			return nil, &apiError{403, "AccessDeniedException", "findings of account " + acct + " cannot be imported by " + Account}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findings == nil {
		s.findings = map[string]*StoredFinding{}
	}
	var failedList []map[string]string
	for _, f := range findings {
		id, _ := f["Id"].(string)
		if s.faults.RecordFailure > 0 && s.rng.Float64() < s.faults.RecordFailure {
			s.injected.RecordFailure++
			failedList = append(failedList, map[string]string{"Id": id, "ErrorCode": "InternalException", "ErrorMessage": "injected"})
			continue
		}
		if st, ok := s.findings[id]; ok {
			st.Finding = f
			st.Imports++
		} else {
			s.findings[id] = &StoredFinding{Finding: f, Imports: 1}
		}
	}
	return map[string]any{"FailedCount": len(failedList), "SuccessCount": len(findings) - len(failedList),
		"FailedFindings": append([]map[string]string{}, failedList...)}, nil
}

// getCallerIdentity is STS's GetCallerIdentity, in the query protocol.
func getCallerIdentity(reqID string) string {
	return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
		`<Arn>arn:aws:iam::` + Account + `:user/falcocw-test</Arn><UserId>AIDAFALCOCWTEST</UserId><Account>` + Account + `</Account>` +
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>` + reqID + `</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
}

// hubPath is Security Hub's BatchImportFindings, a REST call.
func hubOp(path string) string {
	if strings.TrimRight(path, "/") == "/findings/import" {
		return "BatchImportFindings"
	}
	return ""
}
