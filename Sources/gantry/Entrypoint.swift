import GantryCLI

@main
struct Entrypoint {
    static func main() {
        GantryCommand.start()
    }
}
