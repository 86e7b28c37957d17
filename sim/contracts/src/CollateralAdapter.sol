// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IConditionalTokens {
    function balanceOf(address owner, uint256 id) external view returns (uint256);
    function getCollectionId(bytes32 parent, bytes32 conditionId, uint256 indexSet)
        external view returns (bytes32);
    function getPositionId(address collateralToken, bytes32 collectionId)
        external pure returns (uint256);
    function safeBatchTransferFrom(address from, address to, uint256[] calldata ids,
        uint256[] calldata values, bytes calldata data) external;
    function redeemPositions(address collateralToken, bytes32 parentCollectionId,
        bytes32 conditionId, uint256[] calldata indexSets) external;
}

interface IToken {
    function balanceOf(address owner) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function mint(address to, uint256 value) external;
}

/// @title Stand-in for Polymarket's CtfCollateralAdapter and NegRiskCtfCollateralAdapter.
/// @notice The pUSD-native redeem path: pulls ALL the caller's outcome tokens of the condition
///         (so the caller must have made this adapter an ERC-1155 operator), redeems them in the
///         CTF against the collateral the positions were minted with (USDC.e for standard
///         markets, the neg-risk wrapped collateral for neg-risk ones) and pays the proceeds to
///         the caller in pUSD. The collateral and parent arguments and the index sets are
///         ignored, as in the production adapter; losing tokens are burned for 0.
/// @dev One source for both adapters: `underlying` (slot 2) chooses USDC.e or the wrapped
///      collateral. Wrapping is modelled as: the underlying goes to pUSD's contract, pUSD mints.
contract CollateralAdapter {
    address public conditionalTokens; // slot 0
    address public collateralToken; // slot 1 (pUSD)
    address public underlying; // slot 2

    function redeemPositions(address, bytes32, bytes32 conditionId, uint256[] calldata)
        external
    {
        IConditionalTokens ctf = IConditionalTokens(conditionalTokens);
        uint256[] memory ids = new uint256[](2);
        uint256[] memory amounts = new uint256[](2);
        uint256[] memory partition = new uint256[](2);
        for (uint256 i = 0; i < 2; ++i) {
            partition[i] = 1 << i;
            ids[i] = ctf.getPositionId(underlying,
                ctf.getCollectionId(bytes32(0), conditionId, partition[i]));
            amounts[i] = ctf.balanceOf(msg.sender, ids[i]);
        }
        ctf.safeBatchTransferFrom(msg.sender, address(this), ids, amounts, "");
        ctf.redeemPositions(underlying, bytes32(0), conditionId, partition);
        uint256 amount = IToken(underlying).balanceOf(address(this));
        if (amount > 0) {
            require(IToken(underlying).transfer(collateralToken, amount), "transfer failed");
            IToken(collateralToken).mint(msg.sender, amount);
        }
    }
}
