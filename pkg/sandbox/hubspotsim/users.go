package hubspotsim

import (
	"cmp"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/crmsync/crmsync/pkg/hubspot"
)

// Owners and users, as HubSpot has them: owners are read-only in the
// public API (GET /crm/v3/owners/ and /crm/v3/owners/{ownerId}); a person
// who can own records is made by provisioning a user (POST
// /settings/v3/users/), and HubSpot then lists them as an owner with the
// user's id in userId. Removing the user archives the owner: it is then
// listed only with archived=true.
//
// Shapes: PublicOwner {id, email, type, firstName, lastName, userId,
// userIdIncludingInactive, createdAt, updatedAt, archived, teams} and
// PublicUser {id, email, roleIds, roleId, primaryTeamId,
// secondaryTeamIds, superAdmin, firstName, lastName, sendWelcomeEmail},
// per the CRM owners v3 and Settings user provisioning v3 references and
// the models of @hubspot/api-client (codegen/crm/owners,
// codegen/settings/users).

// owner is an owner as GET /crm/v3/owners/ shows it.
type owner struct {
	hubspot.Owner
	Type                    string      `json:"type"`
	UserIDIncludingInactive int64       `json:"userIdIncludingInactive,omitempty"`
	Teams                   []ownerTeam `json:"teams"`
}

type ownerTeam struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Primary bool   `json:"primary"`
}

func (o *owner) wire() owner {
	w := *o
	w.Type = cmp.Or(w.Type, "PERSON")
	if w.UserIDIncludingInactive == 0 {
		w.UserIDIncludingInactive = w.UserID
	}
	if w.Teams == nil {
		w.Teams = []ownerTeam{}
	}
	return w
}

// user is a provisioned user (PublicUser).
type user struct {
	ID               string   `json:"id"`
	Email            string   `json:"email"`
	FirstName        string   `json:"firstName,omitempty"`
	LastName         string   `json:"lastName,omitempty"`
	RoleID           string   `json:"roleId,omitempty"`
	RoleIDs          []string `json:"roleIds"`
	PrimaryTeamID    string   `json:"primaryTeamId,omitempty"`
	SecondaryTeamIDs []string `json:"secondaryTeamIds"`
	SuperAdmin       bool     `json:"superAdmin"`
	SendWelcomeEmail bool     `json:"sendWelcomeEmail"`
	archived         bool
}

func (p *Portal) userRoutes() {
	m := p.mux
	// The client libraries call the collection with a trailing slash
	// (OwnersApi.getPage: '/crm/v3/owners/', UsersApi: '/settings/v3/users/');
	// HubSpot's reference lists both spellings.
	for _, base := range []string{"/crm/v3/owners", "/crm/v3/owners/{$}"} {
		m.HandleFunc("GET "+base, p.api(false, p.listOwners))
	}
	m.HandleFunc("GET /crm/v3/owners/{id}", p.api(false, p.getOwner))
	for _, base := range []string{"/settings/v3/users", "/settings/v3/users/{$}"} {
		m.HandleFunc("GET "+base, p.api(false, p.listUsers))
		m.HandleFunc("POST "+base, p.api(false, p.createUser))
	}
	m.HandleFunc("GET /settings/v3/users/{id}", p.api(false, p.withUser(func(w http.ResponseWriter, r *http.Request, u *user) {
		writeJSON(w, http.StatusOK, u)
	})))
	m.HandleFunc("PUT /settings/v3/users/{id}", p.api(false, p.withUser(p.updateUser)))
	m.HandleFunc("DELETE /settings/v3/users/{id}", p.api(false, p.withUser(p.removeUser)))
}

// page parses limit (default def, at most max) and after (an offset).
func page(w http.ResponseWriter, r *http.Request, def, most int) (offset, limit int, ok bool) {
	q := r.URL.Query()
	limit = def
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > most {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "limit must be between 1 and "+strconv.Itoa(most)+"; got "+s, nil)
			return 0, 0, false
		}
		limit = n
	}
	if s := q.Get("after"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "after must be a paging cursor from a previous page; got "+s, nil)
			return 0, 0, false
		}
		offset = n
	}
	return offset, limit, true
}

func pageBody[T any](all []T, offset, limit int) map[string]any {
	results := all[min(offset, len(all)):min(offset+limit, len(all))]
	body := map[string]any{"results": results}
	if results == nil {
		body["results"] = []any{}
	}
	if offset+limit < len(all) {
		next := strconv.Itoa(offset + limit)
		body["paging"] = map[string]any{"next": map[string]string{"after": next, "link": "?after=" + next}}
	}
	return body
}

// listOwners is GET /crm/v3/owners/: limit ≤ 500 (default 100), email
// filters (case-insensitive), archived=true lists archived owners only.
func (p *Portal) listOwners(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := page(w, r, 100, 500)
	if !ok {
		return
	}
	email := r.URL.Query().Get("email")
	archived := r.URL.Query().Get("archived") == "true"
	p.mu.Lock()
	defer p.mu.Unlock()
	var owners []owner
	for _, o := range p.owners {
		if o.Archived == archived && (email == "" || strings.EqualFold(o.Email, email)) {
			owners = append(owners, o.wire())
		}
	}
	writeJSON(w, http.StatusOK, pageBody(owners, offset, limit))
}

// getOwner is GET /crm/v3/owners/{ownerId}: idProperty=id (default) or
// userId; archived=true finds archived owners only.
func (p *Portal) getOwner(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	idProp := cmp.Or(r.URL.Query().Get("idProperty"), "id")
	if idProp != "id" && idProp != "userId" {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "idProperty must be one of id, userId; got "+idProp, nil)
		return
	}
	archived := r.URL.Query().Get("archived") == "true"
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range p.owners {
		match := o.ID == id
		if idProp == "userId" {
			match = o.UserID != 0 && strconv.FormatInt(o.UserID, 10) == id
		}
		if match && o.Archived == archived {
			writeJSON(w, http.StatusOK, o.wire())
			return
		}
	}
	writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Owner "+id+" not found", map[string][]string{"id": {id}})
}

func (p *Portal) listUsers(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := page(w, r, 100, 100)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var users []*user
	for _, u := range p.users {
		if !u.archived {
			users = append(users, u)
		}
	}
	writeJSON(w, http.StatusOK, pageBody(users, offset, limit))
}

// userInput is UserProvisionRequest (create) and PublicUserUpdate (PUT).
type userInput struct {
	Email            string   `json:"email"`
	SendWelcomeEmail *bool    `json:"sendWelcomeEmail"`
	FirstName        string   `json:"firstName"`
	LastName         string   `json:"lastName"`
	RoleID           string   `json:"roleId"`
	PrimaryTeamID    string   `json:"primaryTeamId"`
	SecondaryTeamIDs []string `json:"secondaryTeamIds"`
}

// createUser is POST /settings/v3/users/: email and sendWelcomeEmail are
// required (the reference marks both required); the answer is 201 with
// the user, and the user is listed as an owner from then on.
func (p *Portal) createUser(w http.ResponseWriter, r *http.Request) {
	var in userInput
	if !readJSON(w, r, &in) {
		return
	}
	switch {
	case in.Email == "":
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "email is required", map[string][]string{"email": {""}})
		return
	case in.SendWelcomeEmail == nil:
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "sendWelcomeEmail is required", nil)
		return
	}
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || !strings.Contains(in.Email[strings.LastIndex(in.Email, "@")+1:], ".") {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Email address "+in.Email+" is invalid", map[string][]string{"email": {in.Email}})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if !u.archived && strings.EqualFold(u.Email, in.Email) {
			// HubSpot refuses a second user with the same email; the
			// reference does not give the code, the portal answers 409 as
			// the CRM does for a duplicate contact email.
			writeError(w, http.StatusConflict, "CONFLICT", "A user with email "+in.Email+" already exists. Existing ID: "+u.ID, nil)
			return
		}
	}
	p.nextUser += 1 + int64(p.rng.IntN(3))
	u := &user{ID: strconv.FormatInt(p.nextUser, 10), Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
		RoleID: in.RoleID, PrimaryTeamID: in.PrimaryTeamID, SecondaryTeamIDs: in.SecondaryTeamIDs, SendWelcomeEmail: *in.SendWelcomeEmail}
	u.normalize()
	p.users = append(p.users, u)
	now := p.now()
	p.owners = append(p.owners, &owner{Owner: hubspot.Owner{ID: p.newOwnerID(), Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		UserID: p.nextUser, CreatedAt: now, UpdatedAt: now}})
	writeJSON(w, http.StatusCreated, u)
}

func (u *user) normalize() {
	u.RoleIDs = []string{}
	if u.RoleID != "" {
		u.RoleIDs = []string{u.RoleID}
	}
	if u.SecondaryTeamIDs == nil {
		u.SecondaryTeamIDs = []string{}
	}
}

type userHandler func(w http.ResponseWriter, r *http.Request, u *user)

// withUser finds the live user {id} (idProperty USER_ID, the default, or
// EMAIL) and calls h with p.mu held.
func (p *Portal) withUser(h userHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		idProp := cmp.Or(r.URL.Query().Get("idProperty"), "USER_ID")
		if idProp != "USER_ID" && idProp != "EMAIL" {
			writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "idProperty must be one of USER_ID, EMAIL; got "+idProp, nil)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, u := range p.users {
			if !u.archived && (idProp == "USER_ID" && u.ID == id || idProp == "EMAIL" && strings.EqualFold(u.Email, id)) {
				h(w, r, u)
				return
			}
		}
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "User "+id+" not found", map[string][]string{"userId": {id}})
	}
}

// updateUser is PUT /settings/v3/users/{userId}: the fields given change
// (names show on the owner too).
func (p *Portal) updateUser(w http.ResponseWriter, r *http.Request, u *user) {
	var in userInput
	if !readJSON(w, r, &in) {
		return
	}
	if in.FirstName != "" {
		u.FirstName = in.FirstName
	}
	if in.LastName != "" {
		u.LastName = in.LastName
	}
	if in.RoleID != "" {
		u.RoleID = in.RoleID
	}
	if in.PrimaryTeamID != "" {
		u.PrimaryTeamID = in.PrimaryTeamID
	}
	if in.SecondaryTeamIDs != nil {
		u.SecondaryTeamIDs = in.SecondaryTeamIDs
	}
	u.normalize()
	if o := p.ownerOfUser(u.ID); o != nil {
		o.FirstName, o.LastName, o.UpdatedAt = u.FirstName, u.LastName, p.now()
	}
	writeJSON(w, http.StatusOK, u)
}

// removeUser is DELETE /settings/v3/users/{userId}: 204, and the user's
// owner is archived.
func (p *Portal) removeUser(w http.ResponseWriter, r *http.Request, u *user) {
	u.archived = true
	if o := p.ownerOfUser(u.ID); o != nil {
		o.Archived, o.UpdatedAt = true, p.now()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *Portal) ownerOfUser(userID string) *owner {
	for _, o := range p.owners {
		if strconv.FormatInt(o.UserID, 10) == userID {
			return o
		}
	}
	return nil
}

// newOwnerID returns an owner id no owner has; p.mu is held.
func (p *Portal) newOwnerID() string {
	for n := int64(61000000 + len(p.owners)); ; n++ {
		id := strconv.FormatInt(n, 10)
		if !slices.ContainsFunc(p.owners, func(o *owner) bool { return o.ID == id }) {
			return id
		}
	}
}
