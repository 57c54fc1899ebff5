fn main() {
    println!("cargo:rerun-if-changed=grammar/rnn.lalrpop");
    lalrpop::Configuration::new()
        .set_in_dir("grammar")
        .process()
        .expect("LALRPOP failed to process grammar/rnn.lalrpop");
}
