fn main() -> std::process::ExitCode {
    paperclip_server::cli::main()
}
