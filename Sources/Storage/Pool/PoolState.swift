import DequeModule

/// The pool's bookkeeping as a pure value: who waits in which order, which connections are idle,
/// how many are open or being opened, and the connect backoff. `ConnectionPool` owns one behind its
/// lock and performs the I/O the steps ask for, so every rule here is tested without a database.
struct PoolState<Connection> {
    /// What an acquiring thread must do next.
    enum Step {
        /// The pool is closed; the ticket has left the queue.
        case closed
        /// An idle connection for the head of the queue. The caller checks that it is alive, then
        /// calls `handedOut(_:)` or `idleConnectionDied(_:)`.
        case checkIdle(Connection)
        /// Open a new connection. The slot is reserved and the ticket has left the queue; report the
        /// outcome with `connectSucceeded()` or `connectFailed(now:)`.
        case connect
        /// Nothing is open and no connection attempt is due before the deadline; the ticket has left
        /// the queue. The payload is the time (monotonic ns) of the next allowed attempt.
        case unavailable(nextAttemptAt: UInt64)
        /// The deadline passed; the ticket has left the queue.
        case timedOut
        /// Sleep until woken or until this instant (monotonic ns), then ask again.
        case wait(until: UInt64)
    }

    let capacity: Int
    private(set) var idle: [Connection] = []
    /// Connections open (lent out or idle) plus the ones being opened.
    private(set) var openCount = 0
    private(set) var connectsInFlight = 0
    private(set) var waiters = Deque<UInt64>()
    private(set) var isClosed = false
    private(set) var backoff: ConnectBackoff
    private var nextTicket: UInt64 = 0

    init(capacity: Int, backoff: ConnectBackoff = ConnectBackoff()) {
        self.capacity = capacity
        self.backoff = backoff
    }

    /// Connections lent out (or being opened for a caller).
    var activeCount: Int { openCount - idle.count }

    /// Joins the end of the queue.
    mutating func arrive() -> UInt64 {
        defer { nextTicket += 1 }
        waiters.append(nextTicket)
        return nextTicket
    }

    /// Leaves the queue (also done by every step that ends the acquire).
    mutating func leave(_ ticket: UInt64) {
        if let index = waiters.firstIndex(of: ticket) { waiters.remove(at: index) }
    }

    /// The next step for `ticket` at `now`, given its `deadline`. Only the head of the queue may take
    /// a connection or open one: FIFO.
    mutating func step(for ticket: UInt64, now: UInt64, deadline: UInt64) -> Step {
        if isClosed {
            leave(ticket)
            return .closed
        }
        if waiters.first == ticket {
            if let connection = idle.popLast() { return .checkIdle(connection) }
            // While backing off, a single probe at a time; otherwise connections open in parallel.
            let mayConnect = openCount < capacity && backoff.allowsAttempt(now: now)
                && (!backoff.isBackingOff || connectsInFlight == 0)
            if mayConnect {
                openCount += 1
                connectsInFlight += 1
                leave(ticket)
                return .connect
            }
            // Nothing can be released to us and no attempt is allowed in time: say so now.
            if openCount == 0 && connectsInFlight == 0 && backoff.isBackingOff && backoff.nextAttemptAt >= deadline {
                leave(ticket)
                return .unavailable(nextAttemptAt: backoff.nextAttemptAt)
            }
        }
        if now >= deadline {
            leave(ticket)
            return .timedOut
        }
        var wakeAt = deadline
        if waiters.first == ticket && backoff.isBackingOff && openCount < capacity {
            wakeAt = min(wakeAt, max(backoff.nextAttemptAt, now + 1_000_000))
        }
        return .wait(until: wakeAt)
    }

    /// The idle connection from `.checkIdle` is alive and goes to `ticket`.
    mutating func handedOut(to ticket: UInt64) { leave(ticket) }

    /// The idle connection from `.checkIdle` is dead: its slot is freed; ask for the next step.
    mutating func idleConnectionDied() { openCount -= 1 }

    /// The connection opened for a `.connect` step works. Returns whether this ended a backoff.
    mutating func connectSucceeded() -> Bool {
        connectsInFlight -= 1
        let wasBackingOff = backoff.isBackingOff
        backoff.recordSuccess()
        return wasBackingOff
    }

    /// Opening the connection for a `.connect` step failed: the slot is freed and the backoff grows.
    mutating func connectFailed(now: UInt64) {
        connectsInFlight -= 1
        openCount -= 1
        backoff.recordFailure(now: now)
    }

    /// A lent-out connection comes back. Returns false when it must be closed instead (not reusable,
    /// or the pool is closed); its slot is then freed.
    mutating func released(_ connection: Connection, reusable: Bool) -> Bool {
        guard reusable && !isClosed else {
            openCount -= 1
            return false
        }
        idle.append(connection)
        return true
    }

    /// Refuses further acquires and returns the idle connections to close.
    mutating func close() -> [Connection] {
        isClosed = true
        let toClose = idle
        idle.removeAll()
        openCount -= toClose.count
        return toClose
    }
}
