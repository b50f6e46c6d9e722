fn main() {
    println!("hello from {}/{}", std::env::consts::OS, std::env::consts::ARCH);
}
