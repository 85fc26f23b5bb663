# The PLAIN mechanism (RFC 24): a user name and password in clear, checked
# by the server's ZAP handler. Client: HELLO (name, password), then on
# WELCOME an INITIATE with our metadata, ready on the server's READY.
# Server: HELLO goes to ZAP (through the engine's m.zap_request); on 200
# WELCOME, then READY answers INITIATE; any other status sends ERROR with
# the status code as the reason. With no ZAP handler bound the server
# refuses every client (libzmq 4.3: handshake failed, no detail, EFAULT).
#
# The role is options.as_server; the credentials are the options'
# plain_username/plain_password (setting either makes the socket a PLAIN
# client, PLAIN_SERVER=1 a PLAIN server, as libzmq does).

cdef enum:
    PLAIN_SEND_HELLO = 0        # client states
    PLAIN_WAIT_WELCOME = 1
    PLAIN_SEND_INITIATE = 2
    PLAIN_WAIT_READY = 3
    PLAIN_WAIT_HELLO = 10       # server states
    PLAIN_WAIT_ZAP = 11
    PLAIN_SEND_WELCOME = 12
    PLAIN_WAIT_INITIATE = 13
    PLAIN_SEND_READY = 14
    PLAIN_SEND_ERROR = 15
    PLAIN_DONE = 20


cdef struct plain_t:
    int state
    char status_code[4]         # the ZAP status, sent as ERROR's reason


cdef inline plain_t *plain(mechanism_t *m) noexcept nogil:
    return <plain_t *>m.priv


cdef int plain_hello_parse(const unsigned char *p, size_t n,
                           const unsigned char **user, size_t *ulen,
                           const unsigned char **pwd, size_t *plen) noexcept nogil:
    """HELLO's body (after the name): name and password, each a length
    byte then the bytes, and nothing after. -1 when malformed."""
    if n < 1 or 1 + <size_t>p[0] + 1 > n:
        return -1
    ulen[0] = p[0]
    user[0] = p + 1
    plen[0] = p[1 + ulen[0]]
    pwd[0] = p + 2 + ulen[0]
    if 2 + ulen[0] + plen[0] != n:
        return -1
    return 0


cdef int plain_hello_init(msg_t *out, const options_t *o) noexcept nogil:
    cdef size_t n = 6 + 1 + o.plain_username_len + 1 + o.plain_password_len
    cdef unsigned char *p
    if msg_init_size(out, n) < 0:
        msg_init(out)
        return -1
    p = msg_data(out)
    p += command_name_put(p, b"HELLO")
    p[0] = <unsigned char>o.plain_username_len
    memcpy(p + 1, o.plain_username, o.plain_username_len)
    p += 1 + o.plain_username_len
    p[0] = <unsigned char>o.plain_password_len
    memcpy(p + 1, o.plain_password, o.plain_password_len)
    out.flags = MSG_COMMAND
    return 0


cdef int plain_simple_command(msg_t *out, const char *name) noexcept nogil:
    if msg_init_size(out, 1 + strlen(name)) < 0:
        msg_init(out)
        return -1
    command_name_put(msg_data(out), name)
    out.flags = MSG_COMMAND
    return 0


cdef int plain_next_command(mechanism_t *m, msg_t *out) noexcept nogil:
    cdef plain_t *p = plain(m)
    cdef property_t props[2]
    cdef int rc = 0
    cdef int st = p.state
    if st == PLAIN_SEND_HELLO:
        rc = plain_hello_init(out, m.o)
        p.state = PLAIN_WAIT_WELCOME
    elif st == PLAIN_SEND_INITIATE:
        rc = command_with_properties(out, b"INITIATE", props, mech_basic_properties(m, props))
        p.state = PLAIN_WAIT_READY
    elif st == PLAIN_SEND_WELCOME:
        rc = plain_simple_command(out, b"WELCOME")
        p.state = PLAIN_WAIT_INITIATE
    elif st == PLAIN_SEND_READY:
        rc = ready_init(out, props, mech_basic_properties(m, props))
        p.state = PLAIN_DONE
        m.status = MECH_READY
    elif st == PLAIN_SEND_ERROR:
        rc = error_init(out, p.status_code)
        p.state = PLAIN_DONE
        m.status = MECH_ERROR
    else:
        return EAGAIN
    if rc < 0:
        m.status = MECH_ERROR
        return ENOMEM
    return 0


cdef int plain_refuse(mechanism_t *m, int code) noexcept nogil:
    m.status = MECH_ERROR
    m.error_code = code
    return -1


cdef int plain_client_process(mechanism_t *m, msg_t *cmd) noexcept nogil:
    cdef plain_t *p = plain(m)
    cdef int rc
    if command_is_error(cmd):
        return mech_peer_error(m, cmd)
    if p.state == PLAIN_WAIT_WELCOME and command_is(cmd, b"WELCOME"):
        if cmd.size != 8:
            return plain_refuse(m, PROTO_ERR_MALFORMED_WELCOME)
        p.state = PLAIN_SEND_INITIATE
        return 0
    if p.state == PLAIN_WAIT_READY and command_is(cmd, b"READY"):
        rc = mech_accept_metadata(m, msg_data(cmd) + 6, cmd.size - 6)
        if rc != 0:
            m.status = MECH_ERROR
            return rc
        p.state = PLAIN_DONE
        m.status = MECH_READY
        return 0
    return plain_refuse(m, PROTO_ERR_UNEXPECTED_COMMAND)


cdef int plain_server_process(mechanism_t *m, msg_t *cmd) noexcept nogil:
    cdef plain_t *p = plain(m)
    cdef const unsigned char *cred[2]
    cdef size_t clen[2]
    cdef int rc
    if p.state == PLAIN_WAIT_HELLO and command_is(cmd, b"HELLO"):
        if plain_hello_parse(msg_data(cmd) + 6, cmd.size - 6, &cred[0], &clen[0],
                             &cred[1], &clen[1]) < 0:
            return plain_refuse(m, PROTO_ERR_MALFORMED_HELLO)
        p.state = PLAIN_WAIT_ZAP
        rc = mech_zap_request(m, cred, clen, 2)
        if rc == ENOMEM:
            m.status = MECH_ERROR
            return ENOMEM
        if rc != 0:
            # No handler: libzmq 4.3 refuses (a PLAIN server must check).
            m.status = MECH_ERROR
            m.error_event = EV_HANDSHAKE_FAILED_NO_DETAIL
            m.error_code = EFAULT
            return -1
        return 0
    if p.state == PLAIN_WAIT_INITIATE and command_is(cmd, b"INITIATE"):
        rc = mech_accept_metadata(m, msg_data(cmd) + 9, cmd.size - 9)
        if rc != 0:
            m.status = MECH_ERROR
            return rc
        p.state = PLAIN_SEND_READY
        return 0
    if command_is_error(cmd):
        return mech_peer_error(m, cmd)
    return plain_refuse(m, PROTO_ERR_UNEXPECTED_COMMAND)


cdef void plain_zap_done(mechanism_t *m) noexcept nogil:
    """The ZAP reply is in (m.zap_status): WELCOME, or ERROR with the
    status code (the monitor says HANDSHAKE_FAILED_AUTH)."""
    cdef plain_t *p = plain(m)
    if p.state != PLAIN_WAIT_ZAP:
        return
    if m.zap_status == 200:
        p.state = PLAIN_SEND_WELCOME
        return
    p.state = PLAIN_SEND_ERROR
    m.error_event = EV_HANDSHAKE_FAILED_AUTH
    cdef int code = m.zap_status if m.zap_status == 300 or m.zap_status == 400 else 500
    p.status_code[0] = <char>(48 + code // 100)
    p.status_code[1] = b'0'
    p.status_code[2] = b'0'
    p.status_code[3] = 0
    m.error_code = code


cdef int plain_mech_init(mechanism_t *m) noexcept nogil:
    m.next_handshake_command = plain_next_command
    m.encode = NULL
    m.decode = NULL
    m.zap_done = plain_zap_done
    if m.as_server:
        m.process_handshake_command = plain_server_process
        plain(m).state = PLAIN_WAIT_HELLO
    else:
        m.process_handshake_command = plain_client_process
        plain(m).state = PLAIN_SEND_HELLO
    return 0


cdef int OPT_PLAIN_SERVER = option_number("PLAIN_SERVER")
cdef int OPT_PLAIN_USERNAME = option_number("PLAIN_USERNAME")


cdef int plain_set_option(options_t *o, int option, long long iv,
                          const unsigned char *p, size_t n) noexcept nogil:
    """PLAIN_SERVER 1 makes a PLAIN server, 0 a NULL socket; a user name or
    password makes a PLAIN client, an empty one goes back to NULL (libzmq)."""
    if option == OPT_PLAIN_SERVER:
        o.as_server = iv != 0
        o.mechanism = MECH_PLAIN if iv else MECH_NULL
        return 0
    if option == OPT_PLAIN_USERNAME:
        memcpy(o.plain_username, p, n)
        o.plain_username_len = <int>n
    else:
        memcpy(o.plain_password, p, n)
        o.plain_password_len = <int>n
    o.as_server = False
    o.mechanism = MECH_PLAIN if n else MECH_NULL
    return 0


cdef int plain_get_option(const options_t *o, int option, long long *iv,
                          const unsigned char **p, size_t *n) noexcept nogil:
    if option == OPT_PLAIN_SERVER:
        iv[0] = o.as_server and o.mechanism == MECH_PLAIN
    elif option == OPT_PLAIN_USERNAME:
        p[0] = o.plain_username
        n[0] = o.plain_username_len
    else:
        p[0] = o.plain_password
        n[0] = o.plain_password_len
    return 0


cdef mech_row_t PLAIN_MECHANISM
PLAIN_MECHANISM.name = b"PLAIN"
PLAIN_MECHANISM.number = MECH_PLAIN
PLAIN_MECHANISM.priv_size = sizeof(plain_t)
PLAIN_MECHANISM.init = plain_mech_init
PLAIN_MECHANISM.fini = NULL
PLAIN_MECHANISM.set_option = plain_set_option
PLAIN_MECHANISM.get_option = plain_get_option
mech_register(&PLAIN_MECHANISM)
