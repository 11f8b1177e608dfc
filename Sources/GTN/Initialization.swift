import NN
import TensorCore

extension ParameterLayout {
    /// Initial values: Kaiming-normal weight directions (std √(2 / fan-in)),
    /// weight-norm gains equal to the initial row norms (so the effective weight
    /// starts as the direction itself), batch-norm scales 1, everything else 0.
    /// Naming convention: `*.direction`, `*.gain`, `*.weight`, `*.scale`, `*.bias`, `*.shift`.
    func initialValues<S: TensorScalar>(_ rng: inout RandomStream) -> NDArray<S> {
        var values = NDArray<S>(zeros: [count])
        for entry in entries {
            let range = entry.offset..<(entry.offset + entry.count)
            if entry.name.hasSuffix(".direction") || entry.name.hasSuffix(".weight") {
                let fanIn = entry.count / entry.shape[0]
                let w: NDArray<S> = rng.normal(entry.shape, std: (2.0 / Double(fanIn)).squareRoot())
                values.data.replaceSubrange(range, with: w.data)
            } else if entry.name.hasSuffix(".gain") {
                let direction = self.entry(entry.name.replacingOccurrences(of: ".gain", with: ".direction"))
                let rowLength = direction.count / direction.shape[0]
                for row in 0..<direction.shape[0] {
                    let start = direction.offset + row * rowLength
                    let norm = values.data[start..<(start + rowLength)].reduce(0) { $0 + $1 * $1 }.squareRoot()
                    values.data[entry.offset + row] = norm
                }
            } else if entry.name.hasSuffix(".scale") {
                for i in range { values.data[i] = 1 }
            }
        }
        return values
    }
}
