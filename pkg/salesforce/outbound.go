package salesforce

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// XML namespaces of Outbound Messaging.
const (
	// OutboundNamespace is the namespace of the notifications request and
	// the notificationsResponse acknowledgement.
	OutboundNamespace = "http://soap.sforce.com/2005/09/outbound"
	// SObjectNamespace is the namespace of the sObject fields (the
	// enterprise WSDL's); the parser accepts fields in any namespace.
	SObjectNamespace = "urn:sobject.enterprise.soap.sforce.com"
	// SOAPEnvNamespace is the SOAP 1.1 envelope namespace.
	SOAPEnvNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
	xsiNamespace     = "http://www.w3.org/2001/XMLSchema-instance"
)

// MaxNotifications is the most notifications one Outbound Message carries.
const MaxNotifications = 100

// ErrMalformedMessage is wrapped by ParseOutboundMessage for anything that
// is not a well-formed, complete Outbound Message. ErrNoNotifications is
// the special case of a message without notifications.
var (
	ErrMalformedMessage = errors.New("malformed outbound message")
	ErrNoNotifications  = fmt.Errorf("%w: no notifications", ErrMalformedMessage)
)

// OutboundMessage is one Outbound Message: the notifications element of
// the SOAP request Salesforce POSTs.
type OutboundMessage struct {
	OrganizationID string
	ActionID       string
	// SessionID is a live session of the sending user when the message is
	// set up to send one ("" when nil). It is a secret: it prints as
	// [redacted] and crmsync never uses it.
	SessionID     Secret
	EnterpriseURL string
	PartnerURL    string
	Notifications []Notification
}

// Secret is a string that does not print.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Notification is one record change in an Outbound Message. ID is the
// notification's id: Salesforce keeps it when it redelivers.
type Notification struct {
	ID      string
	SObject SObject
}

// SObject is the record in a notification: its type and the fields the
// outbound message was set up to send, in document order (the Id is one
// of them). Values are text, as sent; they are hints, never the truth.
type SObject struct {
	// Type is the sObject API name from xsi:type, without its prefix
	// ("Lead", "Invoice__c").
	Type   string
	Fields []Field
}

// Field is one field of an sObject. Nil reports xsi:nil="true".
type Field struct {
	Name  string
	Value string
	Nil   bool
}

// ID returns the record id (the Id field).
func (s SObject) ID() string {
	v, _ := s.Get("Id")
	return v
}

// Get returns the value of the named field and whether it is present and
// not nil.
func (s SObject) Get(name string) (string, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f.Value, !f.Nil
		}
	}
	return "", false
}

// UnmarshalXML reads an sObject element: xsi:type names the type (any
// prefix; only the local part is kept) and every child element is a field.
func (s *SObject) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for _, a := range start.Attr {
		if a.Name.Space == xsiNamespace && a.Name.Local == "type" {
			s.Type = a.Value[strings.IndexByte(a.Value, ':')+1:]
		}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			f := Field{Name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == xsiNamespace && a.Name.Local == "nil" && (a.Value == "true" || a.Value == "1") {
					f.Nil = true
				}
			}
			v, err := elementText(d)
			if err != nil {
				return err
			}
			f.Value = v
			s.Fields = append(s.Fields, f)
		case xml.EndElement:
			return nil
		}
	}
}

// elementText reads the character data of the element just started, up
// to its end, as xml.Decoder.DecodeElement into a string does (the text
// of nested elements, which sObject fields never have, is skipped) —
// without the reflection, which made most of the outbound parse's
// allocations.
func elementText(d *xml.Decoder) (string, error) {
	var text []byte
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text = append(text, t...)
		case xml.StartElement:
			if err := d.Skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			return string(text), nil
		}
	}
}

type soapEnvelopeXML struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Notifications *notificationsXML `xml:"http://soap.sforce.com/2005/09/outbound notifications"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

type notificationsXML struct {
	OrganizationID string            `xml:"http://soap.sforce.com/2005/09/outbound OrganizationId"`
	ActionID       string            `xml:"http://soap.sforce.com/2005/09/outbound ActionId"`
	SessionID      string            `xml:"http://soap.sforce.com/2005/09/outbound SessionId"`
	EnterpriseURL  string            `xml:"http://soap.sforce.com/2005/09/outbound EnterpriseUrl"`
	PartnerURL     string            `xml:"http://soap.sforce.com/2005/09/outbound PartnerUrl"`
	Notification   []notificationXML `xml:"http://soap.sforce.com/2005/09/outbound Notification"`
}

type notificationXML struct {
	ID      string   `xml:"http://soap.sforce.com/2005/09/outbound Id"`
	SObject *SObject `xml:"http://soap.sforce.com/2005/09/outbound sObject"`
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// ParseOutboundMessage parses the body of an Outbound Message request. It
// tolerates a UTF-8 BOM, an XML declaration and any namespace prefixes;
// it requires the SOAP 1.1 envelope, the outbound namespace, an
// organization id and 1–100 notifications each with an id and an sObject
// that has a type and an Id. Errors wrap ErrMalformedMessage.
func ParseOutboundMessage(body []byte) (*OutboundMessage, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	var env soapEnvelopeXML
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("salesforce: parse outbound message: %w: %v", ErrMalformedMessage, err)
	}
	n := env.Body.Notifications
	if n == nil {
		return nil, fmt.Errorf("salesforce: parse outbound message: %w: no notifications element in %s", ErrMalformedMessage, OutboundNamespace)
	}
	if !ValidID(strings.TrimSpace(n.OrganizationID)) {
		return nil, fmt.Errorf("salesforce: parse outbound message: %w: bad OrganizationId %q", ErrMalformedMessage, n.OrganizationID)
	}
	switch {
	case len(n.Notification) == 0:
		return nil, fmt.Errorf("salesforce: parse outbound message: %w", ErrNoNotifications)
	case len(n.Notification) > MaxNotifications:
		return nil, fmt.Errorf("salesforce: parse outbound message: %w: %d notifications, at most %d allowed",
			ErrMalformedMessage, len(n.Notification), MaxNotifications)
	}
	m := &OutboundMessage{
		OrganizationID: strings.TrimSpace(n.OrganizationID),
		ActionID:       strings.TrimSpace(n.ActionID),
		SessionID:      Secret(strings.TrimSpace(n.SessionID)),
		EnterpriseURL:  strings.TrimSpace(n.EnterpriseURL),
		PartnerURL:     strings.TrimSpace(n.PartnerURL),
		Notifications:  make([]Notification, len(n.Notification)),
	}
	for i, x := range n.Notification {
		id := strings.TrimSpace(x.ID)
		switch {
		case id == "":
			return nil, fmt.Errorf("salesforce: parse outbound message: %w: notification #%d has no Id", ErrMalformedMessage, i)
		case x.SObject == nil:
			return nil, fmt.Errorf("salesforce: parse outbound message: %w: notification %s has no sObject", ErrMalformedMessage, id)
		case x.SObject.Type == "":
			return nil, fmt.Errorf("salesforce: parse outbound message: %w: notification %s: sObject without xsi:type", ErrMalformedMessage, id)
		case !ValidID(x.SObject.ID()):
			return nil, fmt.Errorf("salesforce: parse outbound message: %w: notification %s: sObject without a valid Id", ErrMalformedMessage, id)
		}
		m.Notifications[i] = Notification{ID: id, SObject: *x.SObject}
	}
	return m, nil
}

// DedupeKey is the dedupe key of a notification: redeliveries of the same
// notification (same Id) share it.
func DedupeKey(notificationID string) string {
	return crmsync.DedupeKeyOf(string(crmsync.Salesforce), "outbound", notificationID)
}

// Triggers turns the message into one trigger per distinct notification
// (a notification Id repeated within the message yields one trigger). Each
// says "this record changed" (KindPropertyChanged); its Properties are the
// field names present except Id — the fields the message was set up to
// send, not necessarily the ones that changed. OccurredAt is the record's
// SystemModstamp, else its LastModifiedDate, else received. Notifications
// of sObject types crmsync does not sync are returned in skipped.
func (m *OutboundMessage) Triggers(received time.Time) (triggers []crmsync.Trigger, skipped []Notification) {
	triggers = make([]crmsync.Trigger, 0, len(m.Notifications))
	seen := make(map[string]bool, len(m.Notifications))
	for _, n := range m.Notifications {
		if seen[n.ID] {
			continue
		}
		seen[n.ID] = true
		obj := crmsync.ObjectType(n.SObject.Type)
		if obj.Side() != crmsync.Salesforce {
			skipped = append(skipped, n)
			continue
		}
		props := make([]string, 0, len(n.SObject.Fields))
		for _, f := range n.SObject.Fields {
			if f.Name != "Id" {
				props = append(props, f.Name)
			}
		}
		triggers = append(triggers, crmsync.Trigger{
			Record:     crmsync.RecordRef{Side: crmsync.Salesforce, Object: obj, ID: n.SObject.ID()},
			Kind:       crmsync.KindPropertyChanged,
			Properties: props,
			OccurredAt: n.SObject.changedAt(received),
			DeliveryID: n.ID,
			DedupeKey:  DedupeKey(n.ID),
		})
	}
	return triggers, skipped
}

func (s SObject) changedAt(fallback time.Time) time.Time {
	for _, name := range []string{"SystemModstamp", "LastModifiedDate"} {
		if v, ok := s.Get(name); ok {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return t.UTC()
			}
		}
	}
	return fallback.UTC()
}

// MarshalSOAP returns the message as the SOAP request Salesforce sends
// (what the simulator POSTs). Fields are written in the sf: prefix of
// SObjectNamespace; an empty SessionID is written as xsi:nil.
func (m *OutboundMessage) MarshalSOAP() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="` + SOAPEnvNamespace + `" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="` + xsiNamespace + `">` + "\n")
	b.WriteString(" <soapenv:Body>\n  <notifications xmlns=\"" + OutboundNamespace + "\">\n")
	elem := func(indent, name, value string) {
		b.WriteString(indent + "<" + name + ">")
		xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + name + ">\n")
	}
	elem("   ", "OrganizationId", m.OrganizationID)
	elem("   ", "ActionId", m.ActionID)
	if m.SessionID == "" {
		b.WriteString("   <SessionId xsi:nil=\"true\"/>\n")
	} else {
		elem("   ", "SessionId", string(m.SessionID))
	}
	elem("   ", "EnterpriseUrl", m.EnterpriseURL)
	elem("   ", "PartnerUrl", m.PartnerURL)
	for _, n := range m.Notifications {
		b.WriteString("   <Notification>\n")
		elem("    ", "Id", n.ID)
		b.WriteString(`    <sObject xsi:type="sf:`)
		xml.EscapeText(&b, []byte(n.SObject.Type))
		b.WriteString(`" xmlns:sf="` + SObjectNamespace + "\">\n")
		for _, f := range n.SObject.Fields {
			if f.Nil {
				b.WriteString("     <sf:" + f.Name + " xsi:nil=\"true\"/>\n")
				continue
			}
			elem("     ", "sf:"+f.Name, f.Value)
		}
		b.WriteString("    </sObject>\n   </Notification>\n")
	}
	b.WriteString("  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n")
	return b.Bytes()
}

// AckResponse is the documented acknowledgement: notificationsResponse in
// the outbound namespace with Ack true.
const AckResponse = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>
`

// FaultCode is a SOAP 1.1 fault code.
type FaultCode string

// Fault codes: Client — the request is wrong and resending it unchanged
// will not help; Server — the receiver failed, try again.
const (
	FaultClient FaultCode = "soapenv:Client"
	FaultServer FaultCode = "soapenv:Server"
)

// FaultResponse returns a SOAP 1.1 fault envelope with the message escaped.
func FaultResponse(code FaultCode, message string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <soapenv:Fault>
   <faultcode>`)
	xml.EscapeText(&b, []byte(code))
	b.WriteString("</faultcode>\n   <faultstring>")
	xml.EscapeText(&b, []byte(message))
	b.WriteString("</faultstring>\n   <detail />\n  </soapenv:Fault>\n </soapenv:Body>\n</soapenv:Envelope>\n")
	return b.Bytes()
}

type ackEnvelopeXML struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Response *struct {
			Ack string `xml:"http://soap.sforce.com/2005/09/outbound Ack"`
		} `xml:"http://soap.sforce.com/2005/09/outbound notificationsResponse"`
		Fault *struct {
			Code   string `xml:"faultcode"`
			String string `xml:"faultstring"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// ParseAck reads a receiver's answer the way Salesforce does: true only
// for a notificationsResponse whose Ack is true. A fault is reported as a
// *FaultError; anything else unparseable wraps ErrMalformedMessage.
func ParseAck(body []byte) (bool, error) {
	var env ackEnvelopeXML
	if err := xml.Unmarshal(bytes.TrimPrefix(body, utf8BOM), &env); err != nil {
		return false, fmt.Errorf("salesforce: parse ack: %w: %v", ErrMalformedMessage, err)
	}
	switch {
	case env.Body.Fault != nil:
		return false, &FaultError{Code: env.Body.Fault.Code, Message: env.Body.Fault.String}
	case env.Body.Response == nil:
		return false, fmt.Errorf("salesforce: parse ack: %w: no notificationsResponse", ErrMalformedMessage)
	}
	ack := strings.TrimSpace(env.Body.Response.Ack)
	return ack == "true" || ack == "1", nil
}

// FaultError is a SOAP fault received from an Outbound Message endpoint.
type FaultError struct {
	Code    string
	Message string
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("salesforce: soap fault %s: %s", e.Code, e.Message)
}

// Transient reports whether resending may help: Salesforce resends after
// any fault, but a Server fault is the receiver saying so.
func (e *FaultError) Transient() bool {
	return strings.HasSuffix(e.Code, ":Server") || e.Code == "Server"
}
