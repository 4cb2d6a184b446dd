fn main() -> std::process::ExitCode {
    mailsetup::main_with_args(std::env::args_os())
}
