import GantryCLI

/// `gantry-server`: every command of `gantry`, linked position-independent for `gantry serve`
/// (`gantry serve` runs this binary when it sits beside `gantry`; see Package.swift).
@main
struct Entrypoint {
    static func main() {
        GantryCommand.start()
    }
}
